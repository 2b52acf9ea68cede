// local-control-plane runs a real kube-apiserver on an embedded etcd, on loopback, for tests and
// demos (as controller-runtime's envtest does): no kubelet, no controller-manager. With
// --advertise-address it is ready for the node scripts/local-node.ts adds (see apiserver.go).
//
// It prints one JSON line when /readyz answers ok, and stops (API server, then etcd) on SIGTERM,
// SIGINT, or when its standard input is a pipe that its parent closes.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

const shutdownLimit = 20 * time.Second

func main() {
	os.Exit(run())
}

func run() int {
	dataDir := flag.String("data-dir", "", "folder for etcd's data, the certificates and the kubeconfig (default: a new temporary folder, removed on exit)")
	securePort := flag.Int("secure-port", 0, "API server port on 127.0.0.1 (0: any free port; give the old one to restart on the same data)")
	readyTimeout := flag.Duration("ready-timeout", 3*time.Minute, "how long to wait for /readyz")
	advertise := flag.String("advertise-address", "", "an address of this machine that pods on a local node reach: the API server also listens on it and publishes it as the kubernetes Service's endpoint, and admits pods as a cluster does (ServiceAccount admission; the node's controller-manager creates the accounts); empty: loopback only, no ServiceAccount admission")
	flag.Parse()

	dir, cleanup, err := prepareDataDir(*dataDir)
	if err != nil {
		return fail("data dir: %v", err)
	}
	defer cleanup()

	p, err := loadOrGeneratePKI(filepath.Join(dir, "pki"))
	if err != nil {
		return fail("certificates: %v", err)
	}
	port := *securePort
	if port == 0 {
		if port, err = freePort(); err != nil {
			return fail("port: %v", err)
		}
	}
	etcd, etcdURL, err := startEtcd(dir)
	if err != nil {
		return fail("%v", err)
	}
	defer etcd.Close()

	apiserver := newAPIServer(dir, port, etcdURL, p, *advertise)
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	go enforceShutdownLimit(signals)
	stopWhenStdinCloses()

	exited := make(chan error, 1)
	go func() { exited <- apiserver.Execute() }()

	server := fmt.Sprintf("https://127.0.0.1:%d", port)
	client, err := adminHTTPClient(p)
	if err != nil {
		return fail("admin client: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *readyTimeout)
	defer cancel()
	if err := waitReady(ctx, client, server, exited); err != nil {
		stopAPIServer(exited)
		return fail("%v", err)
	}
	version, err := serverVersion(client, server)
	if err != nil {
		stopAPIServer(exited)
		return fail("reading /version: %v", err)
	}
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := writeKubeconfig(kubeconfig, server, p); err != nil {
		stopAPIServer(exited)
		return fail("writing kubeconfig: %v", err)
	}
	line, _ := json.Marshal(map[string]string{
		"server": server, "kubeconfig": kubeconfig, "caFile": p.ServingCAFile, "dataDir": dir, "version": version,
	})
	fmt.Println(string(line))

	if err := <-exited; err != nil {
		return fail("API server stopped: %v", err)
	}
	return 0
}

// stopWhenStdinCloses turns the end of a piped standard input (a pipe, or the socket pair Node.js
// gives a child) into SIGTERM, which the API server's own handler turns into a clean stop; a
// terminal or /dev/null is not watched.
func stopWhenStdinCloses() {
	info, err := os.Stdin.Stat()
	if err != nil || info.Mode()&(os.ModeNamedPipe|os.ModeSocket) == 0 {
		return
	}
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
	}()
}

// enforceShutdownLimit exits the process if a clean stop takes longer than shutdownLimit.
func enforceShutdownLimit(signals <-chan os.Signal) {
	<-signals
	time.Sleep(shutdownLimit)
	fmt.Fprintf(os.Stderr, "local-control-plane: not stopped within %s, exiting\n", shutdownLimit)
	os.Exit(1)
}

func stopAPIServer(exited <-chan error) {
	_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(shutdownLimit):
	}
}

func prepareDataDir(given string) (string, func(), error) {
	if given == "" {
		dir, err := os.MkdirTemp("", "local-control-plane-")
		if err != nil {
			return "", nil, err
		}
		return dir, func() { _ = os.RemoveAll(dir) }, nil
	}
	dir, err := filepath.Abs(given)
	if err != nil {
		return "", nil, err
	}
	return dir, func() {}, os.MkdirAll(dir, 0o700)
}

func fail(format string, args ...any) int {
	fmt.Fprintf(os.Stderr, "local-control-plane: "+format+"\n", args...)
	return 1
}
