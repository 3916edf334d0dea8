package ops

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aiskao/aiskao/identity"
)

// certFiles makes a CA and a certificate it issues for cn with usage, writes them as PEM into
// dir (name.pem, name.key, ca-name.pem) and returns the certificate.
func certFiles(t *testing.T, dir, name, cn string, usage x509.ExtKeyUsage, ip bool) tls.Certificate {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name + " CA"}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	caDER, _ := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: cn}, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	if ip {
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	for file, b := range map[string]*pem.Block{
		name + ".pem": {Type: "CERTIFICATE", Bytes: der}, name + ".key": {Type: "PRIVATE KEY", Bytes: keyDER},
		"ca-" + name + ".pem": {Type: "CERTIFICATE", Bytes: caDER},
	} {
		if err := os.WriteFile(filepath.Join(dir, file), pem.EncodeToMemory(b), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// The API over HTTPS takes an API token or a client certificate whose subject is given a role.
func TestSecurityTLS(t *testing.T) {
	dir := t.TempDir()
	certFiles(t, dir, "server", "ops", x509.ExtKeyUsageServerAuth, true)
	monitor := certFiles(t, dir, "clients", "monitoring", x509.ExtKeyUsageClientAuth, false)
	foreignDir := t.TempDir()
	forged := certFiles(t, foreignDir, "clients", "monitoring", x509.ExtKeyUsageClientAuth, false)

	f := newFixture(t)
	sec := Security{CertFile: filepath.Join(dir, "server.pem"), KeyFile: filepath.Join(dir, "server.key"),
		ClientCAFile: filepath.Join(dir, "ca-clients.pem"), Clients: map[string]identity.Role{"CN=monitoring": identity.Auditor}}
	tc, err := sec.TLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	auth, err := sec.Authenticator(f.backend)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(Handler(f.backend, f.reg, auth, nil))
	srv.TLS = tc
	srv.StartTLS()
	defer srv.Close()

	serverCA, _ := os.ReadFile(filepath.Join(dir, "ca-server.pem"))
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(serverCA)
	client := func(cert *tls.Certificate) *http.Client {
		c := &tls.Config{RootCAs: roots}
		if cert != nil {
			c.Certificates = []tls.Certificate{*cert}
		}
		return &http.Client{Transport: &http.Transport{TLSClientConfig: c}}
	}
	get := func(c *http.Client, token, path string) int {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := c.Do(req)
		if err != nil {
			return -1 // the handshake refused the client
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := get(client(&monitor), "", "/api/v1/journal"); s != 200 {
		t.Errorf("auditor's certificate reading the journal: %d, want 200", s)
	}
	if s := get(client(&monitor), "", "/api/v1/dead-letters/"+f.ids["utf8"]+"/replay"); s != 405 {
		t.Errorf("GET on replay: %d", s)
	}
	if s := get(client(nil), f.tokens["operator"], "/api/v1/dead-letters"); s != 200 {
		t.Errorf("token over HTTPS without a certificate: %d, want 200", s)
	}
	if s := get(client(nil), "", "/api/v1/dead-letters"); s != 401 {
		t.Errorf("nothing: %d, want 401", s)
	}
	if s := get(client(&forged), "", "/api/v1/journal"); s == 200 {
		t.Errorf("certificate from another CA with the same subject: %d, want refused", s)
	}
}

func TestCheckListen(t *testing.T) {
	for addr, ok := range map[string]bool{"127.0.0.1:9090": true, "[::1]:9090": true, "localhost:9090": true,
		":9090": false, "0.0.0.0:9090": false, "10.1.2.3:9090": false, "ops.example.bg:9090": false} {
		if err := (Security{}).CheckListen(addr); (err == nil) != ok {
			t.Errorf("CheckListen(%q) without tls: %v, want ok %v", addr, err, ok)
		}
	}
	if err := (Security{CertFile: "c"}).CheckListen(":9090"); err != nil {
		t.Errorf("with tls: %v", err)
	}
}
