package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

// newAPIServer builds kube-apiserver's own command with the flags envtest uses. Building it
// installs the API server's signal handler: from then on SIGTERM and SIGINT stop the API server.
func newAPIServer(dataDir string, port int, etcdURL string, p *pki, advertise string) *cobra.Command {
	cmd := app.NewAPIServerCommand()
	cmd.SetArgs(append([]string{
		"--etcd-servers=" + etcdURL,
		fmt.Sprintf("--secure-port=%d", port),
		"--cert-dir=" + filepath.Join(dataDir, "apiserver-certs"),
		"--tls-cert-file=" + p.ServingCertFile,
		"--tls-private-key-file=" + p.ServingKeyFile,
		"--client-ca-file=" + p.ClientCAFile,
		"--authorization-mode=RBAC",
		"--service-cluster-ip-range=10.0.0.0/24",
		"--allow-privileged=true",
		fmt.Sprintf("--service-account-issuer=https://127.0.0.1:%d/", port),
		"--service-account-key-file=" + p.SAPubFile,
		"--service-account-signing-key-file=" + p.SAKeyFile,
		"--profiling=false",
	}, reachability(advertise, p)...))
	cmd.SetOut(io.Discard)
	return cmd
}

// reachability is where the API server listens and what it admits. Alone (envtest's way) it is on
// loopback, publishes no endpoint for the kubernetes Service (127.0.0.1 is not a valid endpoint)
// and skips ServiceAccount admission, which would refuse every pod for want of the default account
// that only a controller-manager creates. With a node, pods reach it through the kubernetes
// Service (kube-proxy sends 10.0.0.1:443 to the advertised address), get their token and CA
// mounted by ServiceAccount admission and the kubelet, and the API server reaches the kubelet
// (logs, exec) as admin, which the kubelet checks against the client CA and RBAC.
func reachability(advertise string, p *pki) []string {
	if advertise == "" {
		return []string{
			"--bind-address=127.0.0.1",
			"--advertise-address=127.0.0.1",
			"--endpoint-reconciler-type=none",
			"--disable-admission-plugins=ServiceAccount",
		}
	}
	return []string{
		"--bind-address=0.0.0.0",
		"--advertise-address=" + advertise,
		"--endpoint-reconciler-type=lease",
		"--kubelet-client-certificate=" + p.AdminCertFile,
		"--kubelet-client-key=" + p.AdminKeyFile,
	}
}

// adminHTTPClient talks to the API server as the admin identity.
func adminHTTPClient(p *pki) (*http.Client, error) {
	cert, err := tls.X509KeyPair(p.AdminCertPEM, p.AdminKeyPEM)
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(p.ServingCAPEM) {
		return nil, fmt.Errorf("serving CA is not PEM")
	}
	return &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{
			RootCAs: roots, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12,
		}},
	}, nil
}

// waitReady polls /readyz until it answers "ok", the API server exits, or the context ends.
func waitReady(ctx context.Context, client *http.Client, server string, exited <-chan error) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		resp, err := client.Get(server + "/readyz")
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && string(body) == "ok" {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("API server not ready: %w", ctx.Err())
		case err := <-exited:
			return fmt.Errorf("API server exited while starting: %v", err)
		case <-tick.C:
		}
	}
}

// serverVersion reads the gitVersion the API server reports.
func serverVersion(client *http.Client, server string) (string, error) {
	resp, err := client.Get(server + "/version")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var v struct {
		GitVersion string `json:"gitVersion"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return "", err
	}
	return v.GitVersion, nil
}
