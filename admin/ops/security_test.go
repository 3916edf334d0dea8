package ops

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/internal/testpki"
)

// The API over HTTPS takes an API token or a client certificate whose subject is given a role.
func TestSecurityTLS(t *testing.T) {
	dir := t.TempDir()
	serverCA, clientCA := testpki.New(t, "server CA"), testpki.New(t, "clients CA")
	certFile, keyFile := testpki.WritePair(t, serverCA.Issue(t, testpki.Leaf{Subject: pkix.Name{CommonName: "ops"},
		Usage: x509.ExtKeyUsageServerAuth, IPs: []net.IP{net.ParseIP("127.0.0.1")}}), dir, "server")
	monitoring := testpki.Leaf{Subject: pkix.Name{CommonName: "monitoring"}, Usage: x509.ExtKeyUsageClientAuth}
	monitor, forged := clientCA.Issue(t, monitoring), testpki.New(t, "clients CA").Issue(t, monitoring)

	f := newFixture(t)
	sec := Security{CertFile: certFile, KeyFile: keyFile, ClientCAFile: clientCA.WriteCA(t, dir, "clients-ca.pem"), Clients: map[string]identity.Role{"CN=monitoring": identity.Auditor}}
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

	client := serverCA.Client
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
