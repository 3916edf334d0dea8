package httpconn

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/connectors/connectortest"
	"github.com/aiskao/aiskao/envelope"
	"github.com/aiskao/aiskao/fault"
	"github.com/aiskao/aiskao/spec"
)

func newTestSink(t testing.TB, c Config) *sink {
	t.Helper()
	return newEnvSink(t, c, connectors.Env{})
}

// newEnvSink makes a sink of c in env, named out when env names none, closed when the test ends.
func newEnvSink(t testing.TB, c Config, env connectors.Env) *sink {
	t.Helper()
	if env.Name == "" {
		env.Name = "out"
	}
	s, err := newSink(&c, env)
	if err != nil {
		t.Fatalf("newSink: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestSinkConformance(t *testing.T) {
	connectortest.RunSink(t, connectortest.SinkCase{
		Metadata: map[string]string{envelope.ContentType: "application/xml"},
		New: func(t *testing.T) connectortest.SinkFixture {
			var mu sync.Mutex
			got := map[string][]byte{}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, err := io.ReadAll(r.Body)
				if err != nil {
					http.Error(w, err.Error(), 500)
					return
				}
				mu.Lock()
				got[r.Header.Get("X-Message-Id")] = b
				mu.Unlock()
				w.WriteHeader(http.StatusNoContent)
			}))
			t.Cleanup(srv.Close)
			return connectortest.SinkFixture{
				Sink: newTestSink(t, Config{URL: srv.URL}),
				Delivered: func(*testing.T) map[string][]byte {
					mu.Lock()
					defer mu.Unlock()
					return got
				},
			}
		},
	})
}

func TestSinkHeaders(t *testing.T) {
	var req *http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { req = r }))
	defer srv.Close()
	s := newTestSink(t, Config{URL: srv.URL + "/docs", Method: "PUT", Headers: map[string]string{
		"authorization": "Bearer abc", "Content-Type": "text/plain"}})
	msg := message.NewMessage("m-1", []byte(`{}`))
	msg.Metadata.Set(envelope.ContentType, "application/json")
	msg.Metadata.Set(envelope.Type, "dossier.Created")
	msg.Metadata.Set(envelope.Subject, "АИС 1/2024")
	msg.Metadata.Set(envelope.CorrelationID, "c-1")
	msg.Metadata.Set("filename", "x.json") // not part of the envelope: not sent
	if err := s.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"Content-Type":     "application/json",
		"Authorization":    "Bearer abc",
		"X-Message-Id":     "m-1",
		"Ce-Id":            "m-1",
		"Ce-Specversion":   "1.0",
		"Ce-Type":          "dossier.Created",
		"Ce-Subject":       "%D0%90%D0%98%D0%A1%201/2024",
		"Ce-Correlationid": "c-1",
		"Ce-Filename":      "",
		"Ce-Source":        "",
	}
	if req.Method != "PUT" || req.URL.Path != "/docs" {
		t.Errorf("request %s %s; want PUT /docs", req.Method, req.URL.Path)
	}
	for k, v := range want {
		if got := req.Header.Get(k); got != v {
			t.Errorf("header %s: %q; want %q", k, got, v)
		}
	}
}

func TestSinkFailures(t *testing.T) {
	long := strings.Repeat("щ", 400) // 800 bytes: cut at 512
	tests := []struct {
		status    int
		body      string
		permanent bool
		text      string // expected end of the error
	}{
		{status: 200},
		{status: 202},
		{status: 204},
		{status: 400, body: "missing field\n  subject", permanent: true, text: "answered 400 Bad Request: missing field subject"},
		{status: 404, permanent: true, text: "answered 404 Not Found: (empty body)"},
		{status: 422, body: long, permanent: true, text: "answered 422 Unprocessable Entity: " + strings.Repeat("щ", 256) + "…"},
		{status: 301, permanent: true, text: "answered 301 Moved Permanently: (empty body)"},
		{status: 408, text: "answered 408 Request Timeout: (empty body)"},
		{status: 429, body: "slow down", text: "answered 429 Too Many Requests: slow down"},
		{status: 500, body: "boom", text: "answered 500 Internal Server Error: boom"},
		{status: 503, text: "answered 503 Service Unavailable: (empty body)"},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.status == 301 {
					w.Header().Set("Location", "/elsewhere")
				}
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			err := newTestSink(t, Config{URL: srv.URL}).Send(context.Background(), message.NewMessage("m", []byte("<a/>")))
			if tt.text == "" {
				if err != nil {
					t.Fatalf("Send: %v; want success", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Send succeeded; want an error")
			}
			if got := fault.IsPermanent(err); got != tt.permanent {
				t.Errorf("permanent %v; want %v (%v)", got, tt.permanent, err)
			}
			if want := "http sink out: POST " + srv.URL + " " + tt.text; err.Error() != want {
				t.Errorf("error\n%s\nwant\n%s", err, want)
			}
		})
	}
}

func TestSinkNetworkErrorsRetryable(t *testing.T) {
	t.Run("connection refused", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		err := newTestSink(t, Config{URL: url}).Send(context.Background(), message.NewMessage("m", []byte("x")))
		if err == nil || fault.IsPermanent(err) {
			t.Errorf("Send to a closed port: %v; want a retryable error", err)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.ReadAll(r.Body)
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}))
		defer srv.Close()
		defer close(release)
		err := newTestSink(t, Config{URL: srv.URL, Timeout: spec.Duration(50 * time.Millisecond)}).Send(context.Background(), message.NewMessage("m", []byte("x")))
		if err == nil || fault.IsPermanent(err) || !strings.Contains(err.Error(), "Timeout") {
			t.Errorf("Send to a server that does not answer: %v; want a retryable timeout", err)
		}
	})
	t.Run("after close", func(t *testing.T) {
		s := newTestSink(t, Config{URL: "http://127.0.0.1:1"})
		_ = s.Close()
		if err := s.Send(context.Background(), message.NewMessage("m", []byte("x"))); err == nil {
			t.Error("Send after Close succeeded")
		}
	})
}

func TestSinkKeepsConnections(t *testing.T) {
	var mu sync.Mutex
	conns := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		conns[r.RemoteAddr] = true
		mu.Unlock()
		_, _ = io.WriteString(w, strings.Repeat("ok", 1000))
	}))
	defer srv.Close()
	s := newTestSink(t, Config{URL: srv.URL})
	for range 20 {
		if err := s.Send(context.Background(), message.NewMessage("m", []byte("x"))); err != nil {
			t.Fatal(err)
		}
	}
	if len(conns) != 1 {
		t.Errorf("20 sequential sends used %d connections; want 1", len(conns))
	}
}

func TestSinkContextCancelled(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body) // from then on a client gone away cancels r.Context()
		<-r.Context().Done()
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := newTestSink(t, Config{URL: srv.URL}).Send(ctx, message.NewMessage("m", []byte("x")))
	if !errors.Is(err, context.DeadlineExceeded) || fault.IsPermanent(err) {
		t.Errorf("Send with an expired context: %v; want a retryable deadline error", err)
	}
}
