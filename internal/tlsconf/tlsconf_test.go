package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aiskao/aiskao/internal/testpki"
)

func TestPath(t *testing.T) {
	abs := filepath.Join(t.TempDir(), "ca.pem")
	for _, c := range []struct{ base, name, want string }{
		{"/etc/aiskao", "certs/ca.pem", filepath.Join("/etc/aiskao", "certs/ca.pem")},
		{"/etc/aiskao", abs, abs},
		{"/etc/aiskao", "", ""},
		{"", "certs/ca.pem", "certs/ca.pem"},
	} {
		if got := Path(c.base, c.name); got != c.want {
			t.Errorf("Path(%q, %q) = %q; want %q", c.base, c.name, got, c.want)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	ca := testpki.New(t, "test CA")
	ca.WriteCA(t, dir, "ca.pem")
	testpki.WritePair(t, ca.Issue(t, testpki.Leaf{Subject: pkix.Name{CommonName: "hub"}, Usage: x509.ExtKeyUsageClientAuth}), dir, "client")
	if err := os.WriteFile(filepath.Join(dir, "empty.pem"), []byte("no certificate here\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	var conf tls.Config
	if err := (Files{Cert: "client.pem", Key: "client.key", CA: "ca.pem"}).Load(&conf, dir); err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(conf.Certificates) != 1 {
		t.Errorf("Load set %d client certificates; want 1", len(conf.Certificates))
	}
	if conf.RootCAs == nil || !conf.RootCAs.Equal(poolOf(ca.Cert)) {
		t.Errorf("Load did not set the CA as the only root")
	}

	var none tls.Config
	if err := (Files{}).Load(&none, dir); err != nil || none.Certificates != nil || none.RootCAs != nil {
		t.Errorf("Load of no files = %v, %d certificates, roots %v; want nothing set", err, len(none.Certificates), none.RootCAs)
	}

	for name, c := range map[string]struct {
		f    Files
		want string
	}{
		"no key":         {Files{Cert: "client.pem", Key: "missing.key"}, "client certificate client.pem with key missing.key"},
		"missing CA":     {Files{CA: "missing.pem"}, "CA certificates: open " + filepath.Join(dir, "missing.pem")},
		"CA without PEM": {Files{CA: "empty.pem"}, filepath.Join(dir, "empty.pem") + " holds no PEM certificate"},
	} {
		if err := c.f.Load(&tls.Config{}, dir); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Load = %v; want an error containing %q", name, err, c.want)
		}
	}
}

func poolOf(c *x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c)
	return p
}
