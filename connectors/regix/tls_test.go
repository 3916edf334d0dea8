package regixconn

import (
	"context"
	"crypto/tls"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aiskao/aiskao/connectors/regix/regixsim"
	"github.com/aiskao/aiskao/internal/testpki"
	"github.com/aiskao/aiskao/regix"
	"github.com/aiskao/aiskao/spec"
)

func TestMutualTLS(t *testing.T) {
	dir := t.TempDir()
	pool, srvCert := testpki.MutualTLS(t, dir)
	var seen atomic.Value
	sim := regixsim.NewSimulator(nil)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TLS.PeerCertificates) > 0 {
			seen.Store(r.TLS.PeerCertificates[0].Subject.CommonName)
		}
		sim.ServeHTTP(w, r)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake below
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{srvCert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
	srv.StartTLS()
	defer srv.Close()
	op, _ := mustCatalog(t).Lookup("PersonDataSearch")
	p := map[string]string{"EGN": "8506258485"}

	good := &TLS{CertFile: "client.crt", KeyFile: "client.key", CAFile: filepath.Join(dir, "ca.crt"), MinVersion: "1.2"}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	hc, err := good.HTTPClient(dir)
	if err != nil {
		t.Fatal(err)
	}
	c := &regix.Client{Endpoint: srv.URL, HTTP: hc, Timeout: 5 * time.Second}
	if _, err := c.ExecuteSynchronous(context.Background(), op, p, tlsTestCall); err != nil {
		t.Fatalf("with the client certificate: %v", err)
	}
	if seen.Load() != "cert 3" {
		t.Errorf("server saw client certificate %v", seen.Load())
	}

	noCert := &TLS{CAFile: "ca.crt"}
	hc, err = noCert.HTTPClient(dir)
	if err != nil {
		t.Fatal(err)
	}
	c.HTTP = hc
	if _, err := c.ExecuteSynchronous(context.Background(), op, p, tlsTestCall); err == nil || regix.IsPermanent(err) {
		t.Errorf("without a client certificate: err = %v, want a retryable transport error", err)
	}

	for _, tt := range []struct {
		cfg  TLS
		want string
	}{
		{TLS{CertFile: "client.crt"}, "key_file: set cert_file and key_file together"},
		{TLS{KeyFile: "client.key"}, "cert_file: set cert_file and key_file together"},
		{TLS{MinVersion: "1.0"}, `min_version: must be one of 1.2, 1.3; got "1.0"`},
	} {
		if err := spec.Validate(&tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: %v, want %q", tt.cfg, err, tt.want)
		}
	}
	if _, err := (&TLS{CertFile: "none.crt", KeyFile: "none.key"}).Config(dir); err == nil || !strings.Contains(err.Error(), "none.crt") {
		t.Errorf("missing files: %v", err)
	}
	if _, err := (&TLS{CAFile: "client.key"}).Config(dir); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("CA file without certificates: %v", err)
	}
}

var tlsTestCall = regix.RequestData{CallContext: regix.CallContext{ServiceURI: "123-12345-01.01.2026", ServiceType: "За административна услуга",
	EmployeeIdentifier: "officer@example.bg", AdministrationOId: "2.16.100.1.1.1.1.1", AdministrationName: "Община Пример", LawReason: "чл. 13, ал. 1 от Наредбата"}}

func mustCatalog(t *testing.T) *regix.Operations {
	t.Helper()
	ops, err := regix.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	return ops
}
