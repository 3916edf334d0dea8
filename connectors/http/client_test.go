package httpconn

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/fault"
	"github.com/aiskao/aiskao/internal/testpki"
	"github.com/aiskao/aiskao/spec"
)

// authServer answers 204 when the request's Authorization is want, 401 otherwise.
func tokenCheckServer(t *testing.T, want string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != want {
			http.Error(w, "who are you", http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func sendOne(t *testing.T, c Config, env connectors.Env) error {
	t.Helper()
	return newEnvSink(t, c, env).Send(context.Background(), message.NewMessage("m-1", []byte("<a/>")))
}

// sendTimes sends the same message n times, failing the test on an error.
func sendTimes(t *testing.T, s *sink, n int) {
	t.Helper()
	for range n {
		if err := s.Send(context.Background(), message.NewMessage("m-1", []byte("x"))); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSinkBearer(t *testing.T) {
	srv := tokenCheckServer(t, "Bearer s3cret")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		auth ClientAuth
		ok   bool
	}{
		{"token", ClientAuth{Type: "bearer", Token: "s3cret"}, true},
		{"token file", ClientAuth{Type: "bearer", TokenFile: "token"}, true},
		{"wrong token", ClientAuth{Type: "bearer", Token: "guess"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := sendOne(t, Config{URL: srv.URL, ClientAuth: tc.auth}, connectors.Env{BaseDir: dir})
			if tc.ok != (err == nil) {
				t.Fatalf("error %v", err)
			}
			if err != nil && !fault.IsPermanent(err) {
				t.Fatalf("401 is retried: %v", err)
			}
		})
	}
}

func TestSinkBasic(t *testing.T) {
	srv := tokenCheckServer(t, "Basic YWlza2FvOnBhc3M=") // aiskao:pass
	if err := sendOne(t, Config{URL: srv.URL, ClientAuth: ClientAuth{Type: "basic", Username: "aiskao", Password: "pass"}}, connectors.Env{}); err != nil {
		t.Fatal(err)
	}
	err := sendOne(t, Config{URL: srv.URL, ClientAuth: ClientAuth{Type: "basic", Username: "aiskao", Password: "nope"}}, connectors.Env{})
	if err == nil || !fault.IsPermanent(err) {
		t.Fatalf("wrong password: %v, want a permanent error", err)
	}
}

// tokenServer is an OAuth2 token endpoint for client aiskao with secret s3cret; it counts the
// tokens it gives and answers status when set.
type tokenServer struct {
	*httptest.Server
	issued atomic.Int32
	status atomic.Int32
	ttl    int
}

func newTokenServer(t *testing.T, ttl int) *tokenServer {
	ts := &tokenServer{ttl: ttl}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s := ts.status.Load(); s != 0 {
			http.Error(w, `{"error":"temporarily_unavailable"}`, int(s))
			return
		}
		id, secret, ok := r.BasicAuth()
		if err := r.ParseForm(); err != nil || r.Form.Get("grant_type") != "client_credentials" {
			http.Error(w, `{"error":"unsupported_grant_type"}`, http.StatusBadRequest)
			return
		}
		if !ok {
			id, secret = r.Form.Get("client_id"), r.Form.Get("client_secret")
		}
		if id != "aiskao" || secret != "s3cret" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"invalid_client"}`))
			return
		}
		n := ts.issued.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "tok-" + string(rune('0'+n)), "token_type": "Bearer",
			"expires_in": ts.ttl, "scope": r.Form.Get("scope")})
	}))
	t.Cleanup(ts.Close)
	return ts
}

func TestSinkOAuth2(t *testing.T) {
	tokens := newTokenServer(t, 3600)
	var seen atomic.Value
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Store(r.Header.Get("Authorization"))
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer tok-") {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer api.Close()
	auth := ClientAuth{Type: "oauth2", TokenURL: tokens.URL, ClientID: "aiskao", ClientSecret: "s3cret", Scopes: []string{"documents.write"}}
	var logs bytes.Buffer
	sendTimes(t, newEnvSink(t, Config{URL: api.URL, ClientAuth: auth}, connectors.Env{Logger: slog.New(slog.NewTextHandler(&logs, nil))}), 3)
	if n := tokens.issued.Load(); n != 1 {
		t.Fatalf("%d tokens fetched for 3 deliveries, want 1 kept until it expires", n)
	}
	if seen.Load() != "Bearer tok-1" {
		t.Fatalf("Authorization %v", seen.Load())
	}
	if strings.Contains(logs.String(), "s3cret") || strings.Contains(logs.String(), "tok-1") {
		t.Fatalf("a secret was logged: %s", logs.String())
	}

	t.Run("expired token renewed", func(t *testing.T) {
		short := newTokenServer(t, 1) // expires at once, given oauth2's 10 s early expiry
		sendTimes(t, newTestSink(t, Config{URL: api.URL, ClientAuth: ClientAuth{Type: "oauth2", TokenURL: short.URL, ClientID: "aiskao", ClientSecret: "s3cret"}}), 2)
		if n := short.issued.Load(); n != 2 {
			t.Fatalf("%d tokens fetched, want a new one after expiry", n)
		}
	})
	t.Run("wrong secret is permanent", func(t *testing.T) {
		bad := auth
		bad.ClientSecret = "guess"
		err := sendOne(t, Config{URL: api.URL, ClientAuth: bad}, connectors.Env{})
		if err == nil || !fault.IsPermanent(err) || strings.Contains(err.Error(), "guess") {
			t.Fatalf("error %v, want a permanent one without the secret", err)
		}
	})
	t.Run("token endpoint down is retried", func(t *testing.T) {
		down := newTokenServer(t, 3600)
		down.status.Store(http.StatusServiceUnavailable)
		err := sendOne(t, Config{URL: api.URL, ClientAuth: ClientAuth{Type: "oauth2", TokenURL: down.URL, ClientID: "aiskao", ClientSecret: "s3cret"}}, connectors.Env{})
		if err == nil || fault.IsPermanent(err) {
			t.Fatalf("error %v, want a retryable one", err)
		}
	})
}

func TestSinkRetryableFailures(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(300 * time.Millisecond)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer slow.Close()
	failing := tokenCheckServer(t, "never")
	failing.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadGateway) })
	for name, c := range map[string]Config{
		"timeout": {URL: slow.URL, Timeout: spec.Duration(50 * time.Millisecond), ClientAuth: ClientAuth{Type: "bearer", Token: "t"}},
		"5xx":     {URL: failing.URL, ClientAuth: ClientAuth{Type: "bearer", Token: "t"}},
	} {
		t.Run(name, func(t *testing.T) {
			err := sendOne(t, c, connectors.Env{})
			if err == nil || fault.IsPermanent(err) {
				t.Fatalf("error %v, want a retryable one", err)
			}
		})
	}
}

// mtlsServer is an HTTPS server that asks for a client certificate chained to clients.
func mtlsServer(t *testing.T, serverCA, clients *testpki.CA) *httptest.Server {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"items":[{"id":1}]}`))
	}))
	pool := x509.NewCertPool()
	pool.AddCert(clients.Cert)
	srv.TLS = &tls.Config{
		Certificates: []tls.Certificate{serverCA.Issue(t, testpki.Leaf{Subject: pkix.Name{CommonName: "127.0.0.1"},
			Usage: x509.ExtKeyUsageServerAuth, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})},
		ClientAuth: tls.RequireAndVerifyClientCert,
		ClientCAs:  pool,
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func TestSinkMutualTLS(t *testing.T) {
	serverCA, clients, stranger := testpki.New(t, "server"), testpki.New(t, "clients"), testpki.New(t, "stranger")
	srv := mtlsServer(t, serverCA, clients)
	dir := t.TempDir()
	caFile := serverCA.WriteCA(t, dir, "server-ca.pem")
	cert, key := testpki.WritePair(t, clients.Issue(t, testpki.Leaf{Subject: pkix.Name{CommonName: "hub"}, Usage: x509.ExtKeyUsageClientAuth}), dir, "hub")
	wrongCert, wrongKey := testpki.WritePair(t, stranger.Issue(t, testpki.Leaf{Subject: pkix.Name{CommonName: "hub"}, Usage: x509.ExtKeyUsageClientAuth}), dir, "stranger")
	otherCA := stranger.WriteCA(t, dir, "other-ca.pem")

	if err := sendOne(t, Config{URL: srv.URL, ClientTLS: ClientTLS{Cert: "hub.pem", Key: "hub.key", CA: "server-ca.pem"}}, connectors.Env{BaseDir: dir}); err != nil {
		t.Fatalf("with the client certificate: %v", err)
	}
	for name, tc := range map[string]ClientTLS{
		"no client certificate":      {CA: caFile},
		"certificate of another CA":  {Cert: wrongCert, Key: wrongKey, CA: caFile},
		"server of an unexpected CA": {Cert: cert, Key: key, CA: otherCA},
	} {
		t.Run(name, func(t *testing.T) {
			if err := sendOne(t, Config{URL: srv.URL, ClientTLS: tc}, connectors.Env{}); err == nil {
				t.Fatal("delivered")
			}
		})
	}
}

func TestValidateClientOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    Config
		want string
	}{
		{"bearer without token", Config{URL: "http://x", ClientAuth: ClientAuth{Type: "bearer"}}, "client_auth.token: set one of token and token_file"},
		{"two tokens", Config{URL: "http://x", ClientAuth: ClientAuth{Type: "bearer", Token: "a", TokenFile: "b"}}, "client_auth.token"},
		{"basic without user", Config{URL: "http://x", ClientAuth: ClientAuth{Type: "basic", Password: "p"}}, "client_auth.username"},
		{"oauth2 over http", Config{URL: "http://x", ClientAuth: ClientAuth{Type: "oauth2", TokenURL: "http://login.example.bg/token", ClientID: "a", ClientSecret: "b"}}, "client_auth.token_url"},
		{"oauth2 without client", Config{URL: "http://x", ClientAuth: ClientAuth{Type: "oauth2", TokenURL: "https://l/t", ClientSecret: "b"}}, "client_auth.client_id"},
		{"options without type", Config{URL: "http://x", ClientAuth: ClientAuth{Token: "a"}}, "client_auth.type"},
		{"unknown type", Config{URL: "http://x", ClientAuth: ClientAuth{Type: "digest"}}, "client_auth.type"},
		{"cert without key", Config{URL: "http://x", ClientTLS: ClientTLS{Cert: "c"}}, "client_tls"},
		{"client auth on a listener", Config{Listen: ":1", Path: "/in", Auth: Auth{Type: "none"}, ClientAuth: ClientAuth{Type: "bearer", Token: "a"}}, "client_auth"},
		{"two Authorizations", Config{URL: "http://x", Headers: map[string]string{"authorization": "x"}, ClientAuth: ClientAuth{Type: "bearer", Token: "a"}}, "headers"},
		{"poll and listen", Config{Listen: ":1", Path: "/in", Auth: Auth{Type: "none"}, Poll: Poll{URL: "http://x"}}, "poll.url"},
		{"next without pointer", Config{Poll: Poll{URL: "http://x", Paging: "next"}}, "poll.next"},
		{"page without size", Config{Poll: Poll{URL: "http://x", Paging: "page", Param: "page"}}, "poll.page_size"},
		{"offset without param", Config{Poll: Poll{URL: "http://x", Paging: "offset"}}, "poll.param"},
		{"bad pointer", Config{Poll: Poll{URL: "http://x", Items: "data"}}, "poll.items"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := options(&tc.c)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one naming %s", err, tc.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Fatalf("the error shows a secret: %v", err)
			}
		})
	}
}
