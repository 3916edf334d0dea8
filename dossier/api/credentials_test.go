package api

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/identity/apitoken"
	"github.com/aiskao/aiskao/identity/httpauth"
	"github.com/aiskao/aiskao/internal/testpki"
)

// tokens is an apitoken.Lookup over records in memory.
type tokens map[string]apitoken.Record

func (ts tokens) TokenByID(_ context.Context, id string) (apitoken.Record, error) {
	if r, ok := ts[id]; ok {
		return r, nil
	}
	return apitoken.Record{}, apitoken.ErrNotFound
}

// The API takes the hub's machine credentials: an API token or a client certificate whose
// subject is given a role, over HTTPS.
func TestMachineCredentials(t *testing.T) {
	f := newFixture(t)
	portal, rec, err := apitoken.New("portal", identity.Integrator, start)
	if err != nil {
		t.Fatal(err)
	}
	serverCA, clientCA := testpki.New(t, "server CA"), testpki.New(t, "clients CA")
	roots := x509.NewCertPool()
	roots.AddCert(clientCA.Cert)
	f.api.guard.Auth = httpauth.Any{
		httpauth.Token{Auth: apitoken.Authenticator{Store: tokens{rec.ID: rec}}},
		httpauth.Certificate{Roots: roots, Roles: map[string]identity.Role{"CN=back-office": identity.Operator}},
	}
	srv := httptest.NewUnstartedServer(f.api.mux())
	srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert,
		Certificates: []tls.Certificate{serverCA.Issue(t, testpki.Leaf{Subject: pkix.Name{CommonName: "hub"}, Usage: x509.ExtKeyUsageServerAuth, IPs: []net.IP{net.ParseIP("127.0.0.1")}})}}
	srv.StartTLS()
	defer srv.Close()
	backOffice := clientCA.Issue(t, testpki.Leaf{Subject: pkix.Name{CommonName: "back-office"}, Usage: x509.ExtKeyUsageClientAuth})
	stranger := testpki.New(t, "clients CA").Issue(t, testpki.Leaf{Subject: pkix.Name{CommonName: "back-office"}, Usage: x509.ExtKeyUsageClientAuth})

	call := func(c *http.Client, token, method, path string, body []byte) int {
		t.Helper()
		rq, _ := http.NewRequest(method, srv.URL+path, bytes.NewReader(body))
		if token != "" {
			rq.Header.Set("Authorization", "Bearer "+token)
		}
		if body != nil {
			rq.Header.Set("Content-Type", "application/json")
		}
		resp, err := c.Do(rq)
		if err != nil {
			return -1
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	app, _ := json.Marshal(application())
	if s := call(serverCA.Client(nil), portal, "POST", "/api/v1/applications", app); s != 201 {
		t.Fatalf("the portal's token submitting: %d", s)
	}
	number := "ОБА3-1/04.12.2026"
	if s := call(serverCA.Client(&backOffice), "", "POST", path(number, "/tasks/T1/complete"), []byte("{}")); s != 200 {
		t.Errorf("the back office's certificate completing a task: %d", s)
	}
	if s := call(serverCA.Client(nil), portal, "POST", path(number, "/close"), []byte(`{"reason":"withdrawn"}`)); s != 403 {
		t.Errorf("the portal's token closing: %d, want 403", s)
	}
	if s := call(serverCA.Client(&stranger), "", "GET", path(number, ""), nil); s != 401 {
		t.Errorf("a certificate of another CA: %d, want 401", s)
	}
	if s := call(serverCA.Client(nil), portal+"x", "GET", path(number, ""), nil); s != 401 {
		t.Errorf("a forged token: %d, want 401", s)
	}
	if s := call(serverCA.Client(nil), "", "GET", "/api/v1/services/2016", nil); s != 200 {
		t.Errorf("the catalogue without credentials: %d", s)
	}
}
