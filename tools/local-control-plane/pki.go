package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// pki holds the files kube-apiserver is started with and the admin's credentials.
type pki struct {
	ServingCAFile   string // verifies the API server's certificate (the kubeconfig's CA)
	ServingCertFile string
	ServingKeyFile  string
	ClientCAFile    string // signs user client certificates
	SAKeyFile       string // service-account token signing key (private, PEM)
	SAPubFile       string
	AdminCertFile   string // the admin's client certificate (system:masters), as the API server's to the kubelet
	AdminKeyFile    string
	AdminCertPEM    []byte
	AdminKeyPEM     []byte
	ServingCAPEM    []byte
}

type authority struct {
	cert *x509.Certificate
	key  crypto.Signer
	pem  []byte
}

func newAuthority(commonName string) (*authority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: commonName},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &authority{cert: cert, key: key, pem: pemBlock("CERTIFICATE", der)}, nil
}

// issue signs a leaf certificate: a server certificate when hosts are given, a client one otherwise.
func (a *authority) issue(subject pkix.Name, hosts []string) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      subject,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if len(hosts) > 0 {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		for _, h := range hosts {
			if ip := net.ParseIP(h); ip != nil {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			} else {
				tmpl.DNSNames = append(tmpl.DNSNames, h)
			}
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, key.Public(), a.key)
	if err != nil {
		return nil, nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pemBlock("CERTIFICATE", der), pemBlock("PRIVATE KEY", keyDER), nil
}

func pkiFiles(dir string) *pki {
	return &pki{
		ServingCAFile:   filepath.Join(dir, "serving-ca.crt"),
		ServingCertFile: filepath.Join(dir, "apiserver.crt"),
		ServingKeyFile:  filepath.Join(dir, "apiserver.key"),
		ClientCAFile:    filepath.Join(dir, "client-ca.crt"),
		SAKeyFile:       filepath.Join(dir, "sa.key"),
		SAPubFile:       filepath.Join(dir, "sa.pub"),
		AdminCertFile:   filepath.Join(dir, "admin.crt"),
		AdminKeyFile:    filepath.Join(dir, "admin.key"),
	}
}

// loadOrGeneratePKI reuses the files of an earlier start in dir (so a restarted control plane
// keeps its kubeconfig and the tokens it issued valid), or generates them all.
func loadOrGeneratePKI(dir string) (*pki, error) {
	p := pkiFiles(dir)
	adminCert, errCert := os.ReadFile(p.AdminCertFile)
	adminKey, errKey := os.ReadFile(p.AdminKeyFile)
	servingCA, errCA := os.ReadFile(p.ServingCAFile)
	if errCert == nil && errKey == nil && errCA == nil {
		complete := true
		for _, f := range []string{p.ServingCertFile, p.ServingKeyFile, p.ClientCAFile, p.SAKeyFile, p.SAPubFile} {
			if _, err := os.Stat(f); err != nil {
				complete = false
			}
		}
		if complete {
			p.AdminCertPEM, p.AdminKeyPEM, p.ServingCAPEM = adminCert, adminKey, servingCA
			return p, nil
		}
	}
	return generatePKI(dir)
}

// generatePKI writes the serving, client-CA and service-account files into dir (mode 0600 for keys).
func generatePKI(dir string) (*pki, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	servingCA, err := newAuthority("local-control-plane serving CA")
	if err != nil {
		return nil, err
	}
	clientCA, err := newAuthority("local-control-plane client CA")
	if err != nil {
		return nil, err
	}
	servingCert, servingKey, err := servingCA.issue(pkix.Name{CommonName: "kube-apiserver"},
		[]string{"127.0.0.1", "localhost", "::1", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "10.0.0.1"})
	if err != nil {
		return nil, err
	}
	adminCert, adminKey, err := clientCA.issue(pkix.Name{CommonName: "admin", Organization: []string{"system:masters"}}, nil)
	if err != nil {
		return nil, err
	}
	saKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	saPriv, err := x509.MarshalPKCS8PrivateKey(saKey)
	if err != nil {
		return nil, err
	}
	saPub, err := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	if err != nil {
		return nil, err
	}
	p := pkiFiles(dir)
	p.AdminCertPEM, p.AdminKeyPEM, p.ServingCAPEM = adminCert, adminKey, servingCA.pem
	files := []struct {
		path string
		data []byte
		mode os.FileMode
	}{
		{p.ServingCAFile, servingCA.pem, 0o644},
		{p.ServingCertFile, servingCert, 0o644},
		{p.ServingKeyFile, servingKey, 0o600},
		{p.ClientCAFile, clientCA.pem, 0o644},
		{p.SAKeyFile, pemBlock("PRIVATE KEY", saPriv), 0o600},
		{p.SAPubFile, pemBlock("PUBLIC KEY", saPub), 0o644},
		{p.AdminCertFile, adminCert, 0o644},
		{p.AdminKeyFile, adminKey, 0o600},
	}
	for _, f := range files {
		if err := os.WriteFile(f.path, f.data, f.mode); err != nil {
			return nil, fmt.Errorf("writing %s: %w", f.path, err)
		}
	}
	return p, nil
}

func pemBlock(kind string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der})
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		panic(err)
	}
	return n
}
