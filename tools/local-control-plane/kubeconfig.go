package main

import (
	"encoding/base64"
	"fmt"
	"os"
)

// writeKubeconfig writes an admin kubeconfig (client certificate in system:masters), mode 0600.
func writeKubeconfig(path, server string, p *pki) error {
	b64 := base64.StdEncoding.EncodeToString
	content := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: local-control-plane
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: admin
  user:
    client-certificate-data: %s
    client-key-data: %s
contexts:
- name: local-control-plane
  context:
    cluster: local-control-plane
    user: admin
current-context: local-control-plane
`, server, b64(p.ServingCAPEM), b64(p.AdminCertPEM), b64(p.AdminKeyPEM))
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
