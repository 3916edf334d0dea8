package httpconn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/connectors/connectortest"
	"github.com/aiskao/aiskao/envelope"
	"github.com/aiskao/aiskao/spec"
)

// testServer is a real listener on 127.0.0.1 whose mux is handed to sources as the hub's.
type testServer struct {
	mux *http.ServeMux
	srv *httptest.Server
}

func newTestServer(t testing.TB) *testServer {
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &testServer{mux: mux, srv: srv}
}

func (ts *testServer) env(name string) connectors.Env {
	return connectors.Env{Name: name, Mux: func(string) (*http.ServeMux, error) { return ts.mux, nil }}
}

func (ts *testServer) source(t testing.TB, name string, c Config) *source {
	t.Helper()
	if c.Listen == "" {
		c.Listen = "127.0.0.1:0"
	}
	if c.Auth.Type == "" {
		c.Auth.Type = "none"
	}
	src, err := newSource(&c, ts.env(name))
	if err != nil {
		t.Fatalf("newSource: %v", err)
	}
	return src
}

// stopped runs src until Run has returned.
func stopped(t testing.TB, src connectors.Source) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := src.Run(ctx, func(context.Context, ...*message.Message) error { return nil }); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func post(t testing.TB, url, method, contentType string, body io.Reader, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	if _, ok := body.(io.ReadCloser); ok {
		req.ContentLength = -1 // sent chunked: the size is not known beforehand
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, strings.TrimSuffix(string(b), "\n")
}

const allowed = "application/xml, text/xml, application/json"

func TestSourceAnswers(t *testing.T) {
	failing := func(context.Context, ...*message.Message) error { return errors.New("store unavailable") }
	tests := []struct {
		name   string
		method string
		ctype  string
		body   io.Reader
		header map[string]string
		state  string // "running" (default), "failing", "new", "stopped"
		status int
		text   string // exact answer; empty for 202
	}{
		{name: "xml", ctype: "application/xml", body: strings.NewReader("<a/>"), status: 202},
		{name: "json with charset", ctype: "application/json; charset=utf-8", body: strings.NewReader("{}"), status: 202},
		{name: "upper case type", ctype: "Text/XML", body: strings.NewReader("<a/>"), status: 202},
		{name: "chunked at the limit", ctype: "text/xml", body: io.NopCloser(strings.NewReader(strings.Repeat("x", 1024))), status: 202},
		{name: "get", method: "GET", status: 405,
			text: "Методът GET не е разрешен, използвайте POST / method GET not allowed, use POST"},
		{name: "put", method: "PUT", ctype: "application/xml", body: strings.NewReader("<a/>"), status: 405,
			text: "Методът PUT не е разрешен, използвайте POST / method PUT not allowed, use POST"},
		{name: "no content type", body: strings.NewReader("<a/>"), status: 415,
			text: "Липсва Content-Type / Content-Type missing; allowed: " + allowed},
		{name: "plain text", ctype: "text/plain; charset=utf-8", body: strings.NewReader("hi"), status: 415,
			text: "Типът text/plain; charset=utf-8 не се приема / content type text/plain; charset=utf-8 not allowed; allowed: " + allowed},
		{name: "malformed type", ctype: "application/", body: strings.NewReader("hi"), status: 415,
			text: "Типът application/ не се приема / content type application/ not allowed; allowed: " + allowed},
		{name: "too large", ctype: "application/xml", body: strings.NewReader(strings.Repeat("x", 1025)), status: 413,
			text: "Тялото е по-голямо от 1 KiB / body larger than 1 KiB"},
		{name: "too large chunked", ctype: "application/xml", body: io.NopCloser(strings.NewReader(strings.Repeat("x", 1025))), status: 413,
			text: "Тялото е по-голямо от 1 KiB / body larger than 1 KiB"},
		{name: "empty", ctype: "application/xml", body: strings.NewReader(""), status: 400, text: "Празно тяло / empty body"},
		{name: "empty chunked", ctype: "application/xml", body: io.NopCloser(strings.NewReader("")), status: 400, text: "Празно тяло / empty body"},
		{name: "bad idempotency key", ctype: "application/xml", body: strings.NewReader("<a/>"), header: map[string]string{"Idempotency-Key": "ключ"},
			status: 400, text: "Невалиден Idempotency-Key / invalid Idempotency-Key: want 1 to 255 printable ASCII characters"},
		{name: "not started", state: "new", ctype: "application/xml", body: strings.NewReader("<a/>"), status: 503,
			text: "Приемането още не е започнало, опитайте пак / not accepting messages yet, try again"},
		{name: "stopped", state: "stopped", ctype: "application/xml", body: strings.NewReader("<a/>"), status: 503,
			text: "Приемането спира, опитайте пак / shutting down, try again"},
		{name: "emit fails", state: "failing", ctype: "application/xml", body: strings.NewReader("<a/>"), header: map[string]string{"Idempotency-Key": "order-42"}, status: 503,
			text: "Съобщението може да не е съхранено: изпратете го пак със заглавката / message may not be stored: send it again with the header Idempotency-Key: order-42"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t)
			src := ts.source(t, "in", Config{Path: "/in", MaxBody: 1024})
			src.startWait = 50 * time.Millisecond
			var got connectortest.Collector
			switch tt.state {
			case "", "running":
				connectortest.Running(t, src, got.Emit)
			case "failing":
				connectortest.Running(t, src, failing)
			case "stopped":
				stopped(t, src)
			}
			method := tt.method
			if method == "" {
				method = "POST"
			}
			body := tt.body
			if body == nil {
				body = http.NoBody
			}
			resp, text := post(t, ts.srv.URL+"/in", method, tt.ctype, body, tt.header)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d (%s); want %d", resp.StatusCode, text, tt.status)
			}
			if tt.status == 202 {
				var answer struct{ ID string }
				if err := json.Unmarshal([]byte(text), &answer); err != nil || answer.ID == "" {
					t.Fatalf("answer %q; want {\"id\": ...}", text)
				}
				if len(got.Messages()) != 1 || got.Messages()[0].UUID != answer.ID {
					t.Fatalf("emitted %d messages; want one with id %s", len(got.Messages()), answer.ID)
				}
				if ct := got.Messages()[0].Metadata.Get(envelope.ContentType); ct != tt.ctype {
					t.Errorf("datacontenttype %q; want %q", ct, tt.ctype)
				}
				return
			}
			if text != tt.text {
				t.Errorf("answer\n%q\nwant\n%q", text, tt.text)
			}
			if tt.status == 405 && resp.Header.Get("Allow") != "POST" {
				t.Errorf("Allow %q; want POST", resp.Header.Get("Allow"))
			}
			if tt.status == 503 && resp.Header.Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
			if len(got.Messages()) != 0 {
				t.Errorf("emitted %d messages for a refused request", len(got.Messages()))
			}
		})
	}
}

func TestSourceIdempotencyKey(t *testing.T) {
	ts := newTestServer(t)
	var got connectortest.Collector
	connectortest.Running(t, ts.source(t, "in", Config{Path: "/a", MessageType: "esoed.Document"}), got.Emit)
	connectortest.Running(t, ts.source(t, "other", Config{Path: "/b"}), got.Emit)
	idOf := func(path, key string) string {
		t.Helper()
		resp, text := post(t, ts.srv.URL+path, "POST", "application/xml", strings.NewReader("<a/>"), map[string]string{"Idempotency-Key": key})
		if resp.StatusCode != 202 {
			t.Fatalf("status %d: %s", resp.StatusCode, text)
		}
		var answer struct{ ID string }
		if err := json.Unmarshal([]byte(text), &answer); err != nil {
			t.Fatal(err)
		}
		return answer.ID
	}
	first, again := idOf("/a", "order-42"), idOf("/a", "order-42")
	if first != again {
		t.Errorf("same key gave ids %s and %s; want one", first, again)
	}
	if other := idOf("/a", "order-43"); other == first {
		t.Errorf("keys order-42 and order-43 gave the same id")
	}
	if elsewhere := idOf("/b", "order-42"); elsewhere == first {
		t.Errorf("one key on two connectors gave the same id")
	}
	if typ := got.Messages()[0].Metadata.Get(envelope.Type); typ != "esoed.Document" {
		t.Errorf("type %q; want esoed.Document", typ)
	}
}

// TestSourceRetryAfterUnknownOutcome: a message sent without a key whose publish failed (it may
// be stored all the same) is answered 503 with a key of the source's issue; sent again with it,
// the message has the same id, so that the routes take it once, and the id is time-ordered.
func TestSourceRetryAfterUnknownOutcome(t *testing.T) {
	ts := newTestServer(t)
	var got connectortest.Collector
	var calls int
	emit := func(ctx context.Context, msgs ...*message.Message) error {
		calls++
		if calls == 1 {
			_ = got.Emit(ctx, msgs...) // the broker took it, but its confirmation was lost
			return errors.New("rabbitmq: sent but not confirmed: connection lost")
		}
		return got.Emit(ctx, msgs...)
	}
	connectortest.Running(t, ts.source(t, "in", Config{Path: "/in"}), emit)
	before := time.Now()
	resp, text := post(t, ts.srv.URL+"/in", "POST", "application/xml", strings.NewReader("<a/>"), nil)
	if resp.StatusCode != 503 {
		t.Fatalf("status %d (%s), want 503", resp.StatusCode, text)
	}
	key, id := resp.Header.Get("Idempotency-Key"), resp.Header.Get("X-Message-Id")
	if key == "" || id == "" || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("503 headers %v, want Idempotency-Key, X-Message-Id and Retry-After", resp.Header)
	}
	if !strings.HasSuffix(text, "Idempotency-Key: "+key) {
		t.Errorf("answer %q does not name the key %s", text, key)
	}
	resp, text = post(t, ts.srv.URL+"/in", "POST", "application/xml", strings.NewReader("<a/>"), map[string]string{"Idempotency-Key": key})
	if resp.StatusCode != 202 {
		t.Fatalf("retry with the key: status %d (%s), want 202", resp.StatusCode, text)
	}
	var answer struct{ ID string }
	if err := json.Unmarshal([]byte(text), &answer); err != nil || answer.ID != id {
		t.Fatalf("retry answered %q, want the id %s of the first attempt", text, id)
	}
	msgs := got.Messages()
	if len(msgs) != 2 || msgs[0].UUID != id || msgs[1].UUID != id {
		t.Fatalf("emitted %d messages, want the two attempts with id %s", len(msgs), id)
	}
	u, err := uuid.Parse(id)
	if err != nil || u.Version() != 7 {
		t.Fatalf("id %s (%v): want a version 7 UUID", id, err)
	}
	sec, nsec := u.Time().UnixTime()
	if at := time.Unix(sec, nsec); at.Before(before.Add(-time.Second)) || at.After(time.Now().Add(time.Second)) {
		t.Errorf("id %s is of %v, want about now", id, at)
	}
}

// TestSourceIDs: a client's key gives the name-based id it always gave; a key of the issued form
// gives a time-ordered id of that time, which depends on the connector, so that no key reaches
// another connector's ids; a key that only looks like one is an ordinary key.
func TestSourceIDs(t *testing.T) {
	ts := newTestServer(t)
	a, b := ts.source(t, "a", Config{Path: "/a"}), ts.source(t, "b", Config{Path: "/b"})
	if got, want := a.idOf("order-42"), uuid.NewSHA1(idSpace, []byte("a\x00order-42")).String(); got != want {
		t.Errorf("id of a client's key %s, want %s as before", got, want)
	}
	issued := issueKey(time.UnixMilli(1_700_000_000_123))
	if !strings.HasPrefix(issued, "018bcfe5687b.") || len(issued) != 45 {
		t.Fatalf("issued key %q, want the time in 12 hex digits, a dot and 32 more", issued)
	}
	if issueKey(time.Now()) == issueKey(time.Now()) {
		t.Error("two issued keys are equal")
	}
	u := uuid.MustParse(a.idOf(issued))
	if sec, nsec := u.Time().UnixTime(); u.Version() != 7 || time.Unix(sec, nsec).UnixMilli() != 1_700_000_000_123 {
		t.Errorf("id of an issued key %s: version %d of %v, want version 7 of the key's time", u, u.Version(), time.Unix(sec, nsec))
	}
	if a.idOf(issued) != a.idOf(issued) || a.idOf(issued) == b.idOf(issued) {
		t.Error("the id of an issued key is not the same on one connector and different on two")
	}
	for _, k := range []string{"018bcfe5687b-" + issued[13:], "018BCFE5687B." + issued[13:], issued + "0", issued[:44], "018bcfe5687g." + issued[13:]} {
		if u := uuid.MustParse(a.idOf(k)); u.Version() != 5 {
			t.Errorf("key %q: version %d id, want an ordinary key's version 5", k, u.Version())
		}
	}
}

func TestSourcePaths(t *testing.T) {
	ts := newTestServer(t)
	var got connectortest.Collector
	connectortest.Running(t, ts.source(t, "a", Config{Path: "/in/"}), got.Emit)
	if resp, text := post(t, ts.srv.URL+"/in/", "POST", "text/xml", strings.NewReader("<a/>"), nil); resp.StatusCode != 202 {
		t.Errorf("POST /in/: %d %s", resp.StatusCode, text)
	}
	if resp, _ := post(t, ts.srv.URL+"/in/x", "POST", "text/xml", strings.NewReader("<a/>"), nil); resp.StatusCode != 404 {
		t.Errorf("POST /in/x: %d; want 404: a path ending in / is not a tree", resp.StatusCode)
	}
	_, err := newSource(&Config{Listen: ":1", Path: "/in/", Auth: Auth{Type: "none"}}, ts.env("b"))
	if err == nil || !strings.Contains(err.Error(), "http source b: path /in/ on :1") {
		t.Errorf("second source on one path: %v; want an error naming it", err)
	}
}

func TestSourceRunTwice(t *testing.T) {
	ts := newTestServer(t)
	src := ts.source(t, "in", Config{Path: "/in"})
	connectortest.Running(t, src, (&connectortest.Collector{}).Emit)
	for !src.isRunning() {
		runtime.Gosched()
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // should Run wrongly start again, it stops at once
	err := src.Run(ctx, (&connectortest.Collector{}).Emit)
	if err == nil || !strings.Contains(err.Error(), "already running") {
		t.Errorf("second Run: %v; want already running", err)
	}
}

func TestSourceConformance(t *testing.T) {
	connectortest.RunSource(t, connectortest.SourceCase{
		New: func(t *testing.T) connectortest.SourceFixture {
			ts := newTestServer(t)
			src := ts.source(t, "in", Config{Path: "/in"})
			return connectortest.SourceFixture{
				Source: src,
				Put: func(ctx context.Context, p []byte) error {
					req, err := http.NewRequestWithContext(ctx, "POST", ts.srv.URL+"/in", strings.NewReader(string(p)))
					if err != nil {
						return err
					}
					req.Header.Set("Content-Type", "application/xml")
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						return err
					}
					defer resp.Body.Close()
					b, _ := io.ReadAll(resp.Body)
					if resp.StatusCode != http.StatusAccepted {
						return fmt.Errorf("status %d: %s", resp.StatusCode, b)
					}
					return nil
				},
			}
		},
	})
}

func TestConfig(t *testing.T) {
	connectortest.CheckConfig(t, connectortest.ConfigCase{
		Zero:     &Config{},
		Defaults: func(c any) { _ = spec.FillDefaults(c) },
		Valid:    &Config{Listen: ":8080", Path: "/in", Auth: Auth{Type: "none"}, MaxBody: 1, ContentTypes: []string{"text/xml"}, URL: "https://x.example", Method: "PUT", Timeout: 1},
	})
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want []string // "field: message"
	}{
		{"nothing", Config{}, []string{"listen: set listen and path to receive messages, poll.url to fetch them, or url to deliver them"}},
		{"listen without path", Config{Listen: ":8080", Auth: Auth{Type: "none"}}, []string{"path: required with listen: the path of the POST endpoint, such as /in"}},
		{"path without listen", Config{Path: "/in", URL: "http://x"}, []string{"path: only used with listen; set listen too"}},
		{"bad listen and path", Config{Listen: "8080", Path: "in", Auth: Auth{Type: "none"}}, []string{
			`listen: "8080" is not an address such as 127.0.0.1:8080 or :8080`,
			`path: "in" must start with / and hold no spaces, braces, ? or #`}},
		{"bad content type", Config{Listen: ":1", Path: "/", Auth: Auth{Type: "none"}, ContentTypes: []string{"xml", "text/xml; charset=utf-8"}}, []string{
			`content_types[0]: "xml" is not a media type such as application/xml (without parameters)`,
			`content_types[1]: "text/xml; charset=utf-8" is not a media type such as application/xml (without parameters)`}},
		{"ftp url", Config{URL: "ftp://x/y"}, []string{`url: "ftp://x/y" must start with http:// or https://`}},
		{"no host", Config{URL: "http:///y"}, []string{`url: "http:///y" names no host`}},
		{"bad method and header", Config{URL: "http://x", Method: "GET", Headers: map[string]string{"Bad Name": "v"}}, []string{
			`method: "GET" is not one of POST, PUT, PATCH`,
			`headers: "Bad Name" is not a header name`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.cfg
			_ = spec.FillDefaults(&c)
			got := connectortest.FieldErrors(t, c.Validate())
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("errors\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestRegistered(t *testing.T) {
	f, ok := connectors.Default.Lookup("http")
	if !ok || f.NewSource == nil || f.NewSink == nil {
		t.Fatalf("http not registered as source and sink")
	}
	if _, ok := f.Config.(*Config); !ok {
		t.Errorf("Config is %T", f.Config)
	}
	if _, err := f.NewSource(&Config{URL: "http://x"}, connectors.Env{Name: "out"}); err == nil {
		t.Errorf("NewSource without listen succeeded")
	}
}

func (s *source) isRunning() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.running
}

// TestSourceDrains checks that a stopping source refuses new requests at once but lets the
// emit under way finish, and that Run returns only after it.
func TestSourceDrains(t *testing.T) {
	ts := newTestServer(t)
	src := ts.source(t, "in", Config{Path: "/in"})
	entered, release := make(chan struct{}), make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	go func() {
		runDone <- src.Run(ctx, func(_ context.Context, msgs ...*message.Message) error {
			if string(msgs[0].Payload) != "<slow/>" {
				return errors.New("late") // taken before Run noticed the cancel
			}
			close(entered)
			<-release
			return nil
		})
	}()
	for !src.isRunning() {
		runtime.Gosched()
	}
	slow := make(chan int, 1)
	go func() {
		resp, _ := post(t, ts.srv.URL+"/in", "POST", "application/xml", strings.NewReader("<slow/>"), nil)
		slow <- resp.StatusCode
	}()
	<-entered
	cancel()
	for {
		resp, text := post(t, ts.srv.URL+"/in", "POST", "application/xml", strings.NewReader("<late/>"), nil)
		if resp.StatusCode == 503 && text == textStopping {
			break
		}
		if resp.StatusCode != 503 {
			t.Fatalf("late request: %d %s; want 503", resp.StatusCode, text)
		}
	}
	select {
	case <-runDone:
		t.Fatal("Run returned while an emit was under way")
	default:
	}
	close(release)
	if code := <-slow; code != 202 {
		t.Errorf("request under way when stopping: %d; want 202", code)
	}
	if err := <-runDone; err != nil {
		t.Errorf("Run: %v", err)
	}
}

// TestRequestBeforeRunWaitsForIt: a message that arrives while the hub is still starting the
// source is taken once the source runs, not refused.
func TestRequestBeforeRunWaitsForIt(t *testing.T) {
	ts := newTestServer(t)
	src := ts.source(t, "in", Config{Path: "/in", MaxBody: 1024})
	var got connectortest.Collector
	answered := make(chan int, 1)
	go func() {
		// Not post(): it calls t.Fatal, which must not run outside the test's goroutine.
		resp, err := http.Post(ts.srv.URL+"/in", "application/xml", strings.NewReader("<a/>"))
		if err != nil {
			answered <- 0
			return
		}
		resp.Body.Close()
		answered <- resp.StatusCode
	}()
	select {
	case code := <-answered:
		t.Fatalf("answered %d before the source ran", code)
	case <-time.After(100 * time.Millisecond):
	}
	connectortest.Running(t, src, got.Emit)
	if code := <-answered; code != http.StatusAccepted {
		t.Fatalf("status %d, want 202", code)
	}
	if n := len(got.Messages()); n != 1 {
		t.Errorf("%d messages emitted, want 1", n)
	}
}

// FuzzIssuedAt: any key is either of the issued form, whose time reads back as issueKey wrote
// it, or an ordinary key; idOf gives a valid UUID for every key.
func FuzzIssuedAt(f *testing.F) {
	f.Add(issueKey(time.UnixMilli(1_700_000_000_123)), int64(1_700_000_000_123))
	f.Add("order-42", int64(0))
	f.Add("ffffffffffff.00000000000000000000000000000000", int64(1<<48-1))
	s := &source{name: "in"}
	f.Fuzz(func(t *testing.T, key string, ms int64) {
		if ms >= 0 && ms < 1<<48 {
			k := issueKey(time.UnixMilli(ms))
			if got, ok := issuedAt(k); !ok || got != uint64(ms) {
				t.Fatalf("issuedAt(%q) = %d, %v; want %d", k, got, ok, ms)
			}
		}
		if _, err := uuid.Parse(s.idOf(key)); err != nil {
			t.Fatalf("idOf(%q): %v", key, err)
		}
	})
}

// TestSourceBoundsBodiesHeld: with room for 1000 bytes of bodies, a second body that does not
// fit while the first is being stored waits, then gets 503 with Retry-After (sent at once or
// chunked); one that fits is taken beside it; once the first is stored a body larger than the
// whole room is received alone.
func TestSourceBoundsBodiesHeld(t *testing.T) {
	ts := newTestServer(t)
	src := ts.source(t, "in", Config{Path: "/in", MaxBody: 4096, MaxInFlight: 1000})
	src.roomWait = 100 * time.Millisecond
	entered, release := make(chan struct{}, 8), make(chan struct{})
	var got connectortest.Collector
	connectortest.Running(t, src, func(ctx context.Context, msgs ...*message.Message) error {
		if strings.HasPrefix(string(msgs[0].Payload), "<slow") {
			entered <- struct{}{}
			<-release
		}
		return got.Emit(ctx, msgs...)
	})
	doc := func(name string, size int) string {
		return "<" + name + ">" + strings.Repeat("x", size-2*len(name)-5) + "</" + name + ">"
	}
	slow := make(chan int, 1)
	go func() {
		resp, err := http.Post(ts.srv.URL+"/in", "application/xml", strings.NewReader(doc("slow", 700)))
		if err != nil {
			slow <- 0
			return
		}
		resp.Body.Close()
		slow <- resp.StatusCode
	}()
	<-entered
	for _, body := range []io.Reader{strings.NewReader(doc("a", 400)), io.NopCloser(strings.NewReader(doc("a", 400)))} {
		start := time.Now()
		resp, text := post(t, ts.srv.URL+"/in", "POST", "application/xml", body, nil)
		if resp.StatusCode != http.StatusServiceUnavailable || text != textBusy || resp.Header.Get("Retry-After") == "" {
			t.Errorf("a body with no room: %d %q (Retry-After %q); want 503 %q with Retry-After", resp.StatusCode, text, resp.Header.Get("Retry-After"), textBusy)
		}
		if waited := time.Since(start); waited < src.roomWait {
			t.Errorf("refused after %v, before waiting %v for room", waited, src.roomWait)
		}
	}
	if resp, text := post(t, ts.srv.URL+"/in", "POST", "application/xml", strings.NewReader(doc("b", 250)), nil); resp.StatusCode != 202 {
		t.Errorf("a body that fits beside the one being stored: %d %s; want 202", resp.StatusCode, text)
	}
	close(release)
	if code := <-slow; code != 202 {
		t.Errorf("the body being stored: %d; want 202", code)
	}
	for _, body := range []io.Reader{strings.NewReader(doc("big", 3000)), io.NopCloser(strings.NewReader(doc("big", 3000)))} {
		if resp, text := post(t, ts.srv.URL+"/in", "POST", "application/xml", body, nil); resp.StatusCode != 202 {
			t.Errorf("a body larger than the room, alone: %d %s; want 202", resp.StatusCode, text)
		}
	}
	if n := len(got.Messages()); n != 4 {
		t.Errorf("%d messages stored, want 4", n)
	}
	if !src.room.TryAcquire(1000) {
		t.Error("room not given back after the bodies were stored")
	}
}
