package httpconn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/connectors/connectortest"
	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/store"
)

// api is a REST API of numbered items served two to a page in every paging style.
type api struct {
	*httptest.Server
	mu    sync.Mutex
	items []int
	token string // the bearer token asked for; empty: none
}

func newAPI(t *testing.T, n int) *api {
	a := &api{}
	a.add(n)
	a.Server = httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.Close)
	return a
}

func (a *api) add(n int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for range n {
		a.items = append(a.items, len(a.items)+1)
	}
}

func (a *api) serve(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	all, token := append([]int(nil), a.items...), a.token
	a.mu.Unlock()
	if token != "" && r.Header.Get("Authorization") != "Bearer "+token {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	q := r.URL.Query()
	from := 0
	switch {
	case q.Has("after"):
		from, _ = strconv.Atoi(q.Get("after")) // ids are 1-based: id after is at index after
	case q.Has("page"):
		p, _ := strconv.Atoi(q.Get("page"))
		from = (p - 1) * 2
	case q.Has("offset"):
		from, _ = strconv.Atoi(q.Get("offset"))
	}
	from = min(max(from, 0), len(all))
	page := all[from:min(from+2, len(all))]
	type item struct {
		ID   int    `json:"id"`
		Name string `json:"name"`
	}
	out := struct {
		Data []item `json:"data"`
		Next any    `json:"next"`
	}{Data: []item{}}
	for _, id := range page {
		out.Data = append(out.Data, item{id, fmt.Sprintf("Иван %d", id)})
	}
	if from+len(page) < len(all) {
		next := fmt.Sprintf("/items?after=%d", from+len(page))
		out.Next = next
		w.Header().Set("Link", fmt.Sprintf(`<http://example.bg/other>; rel="prev", <%s>; rel="next"`, next))
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

// collect is an emit that keeps the ids of the items; fail makes it refuse.
type collect struct {
	mu   sync.Mutex
	ids  []int
	fail bool
}

func (c *collect) emit(_ context.Context, msgs ...*message.Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail {
		return errors.New("store down")
	}
	for _, m := range msgs {
		var it struct{ ID int }
		if err := json.Unmarshal(m.Payload, &it); err != nil {
			return err
		}
		c.ids = append(c.ids, it.ID)
	}
	return nil
}

func (c *collect) take() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := fmt.Sprint(c.ids)
	c.ids = nil
	return s
}

func newTestPoller(t *testing.T, c Config, st store.Store) *poller {
	t.Helper()
	src, err := httpFactory(t).NewSource(&c, connectors.Env{Name: "changes", State: st})
	if err != nil {
		t.Fatal(err)
	}
	return src.(*poller)
}

// TestPollPaging reads five items, then, as after a restart, the two added since: none is
// repeated or skipped, in every paging style.
func TestPollPaging(t *testing.T) {
	for _, tc := range []struct {
		paging, first string
		poll          Poll
	}{
		{"none", "/items?after=0", Poll{}},
		{"next", "/items?after=0", Poll{Next: "/next"}},
		{"link", "/items?after=0", Poll{}},
		{"page", "/items?page=1", Poll{Param: "page", PageSize: 2}},
		{"offset", "/items?offset=0", Poll{Param: "offset"}},
	} {
		t.Run(tc.paging, func(t *testing.T) {
			a := newAPI(t, 5)
			st := connectortest.NewStore(t)
			p := tc.poll
			p.URL, p.Paging, p.Items, p.ID = a.URL+tc.first, tc.paging, "/data", "/id"
			c := &collect{}
			ctx := context.Background()
			want := []string{"[1 2 3 4 5]", "[6 7]"}
			if tc.paging == "none" { // one page, read again at every poll: the rest never comes
				want = []string{"[1 2]", "[]"}
			}
			if err := newTestPoller(t, Config{Poll: p}, st).poll(ctx, c.emit); err != nil {
				t.Fatal(err)
			}
			if got := c.take(); got != want[0] {
				t.Fatalf("first poll %s, want %s", got, want[0])
			}
			a.add(2)
			restarted := newTestPoller(t, Config{Poll: p}, st)
			if err := restarted.poll(ctx, c.emit); err != nil {
				t.Fatal(err)
			}
			if got := c.take(); got != want[1] {
				t.Fatalf("after a restart %s, want %s", got, want[1])
			}
			if err := restarted.poll(ctx, c.emit); err != nil {
				t.Fatal(err)
			}
			if got := c.take(); got != "[]" {
				t.Fatalf("poll with nothing new gave %s", got)
			}
		})
	}
}

// TestPollNotStored: items whose messages were not stored are offered again.
func TestPollNotStored(t *testing.T) {
	a := newAPI(t, 3)
	st := connectortest.NewStore(t)
	cfg := Config{Poll: Poll{URL: a.URL + "/items?after=0", Paging: "next", Next: "/next", Items: "/data"}}
	c := &collect{fail: true}
	if err := newTestPoller(t, cfg, st).poll(context.Background(), c.emit); err == nil {
		t.Fatal("poll succeeded with the store down")
	}
	c.fail = false
	if err := newTestPoller(t, cfg, st).poll(context.Background(), c.emit); err != nil {
		t.Fatal(err)
	}
	if got := c.take(); got != "[1 2 3]" {
		t.Fatalf("got %s, want every item once the store is back", got)
	}
}

func TestPollIDsStable(t *testing.T) {
	a := newAPI(t, 2)
	var ids [2][]string
	for i := range ids {
		p := newTestPoller(t, Config{Poll: Poll{URL: a.URL + "/items", Items: "/data", ID: "/id"}}, connectortest.NewStore(t))
		err := p.poll(context.Background(), func(_ context.Context, msgs ...*message.Message) error {
			for _, m := range msgs {
				ids[i] = append(ids[i], m.UUID)
				if m.Metadata.Get("content_type") == "" && !strings.Contains(string(m.Payload), "Иван") {
					t.Errorf("payload %s", m.Payload)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if fmt.Sprint(ids[0]) != fmt.Sprint(ids[1]) || len(ids[0]) != 2 || ids[0][0] == ids[0][1] {
		t.Fatalf("ids %v: want the same two distinct ids for the same items", ids)
	}
}

func TestPollRefusals(t *testing.T) {
	a := newAPI(t, 3)
	a.token = "s3cret" // before any request
	ctx := context.Background()
	c := &collect{}
	t.Run("wrong token", func(t *testing.T) {
		p := newTestPoller(t, Config{Poll: Poll{URL: a.URL + "/items", Items: "/data"}, ClientAuth: ClientAuth{Type: "bearer", Token: "guess"}}, connectortest.NewStore(t))
		err := p.poll(ctx, c.emit)
		if err == nil || !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), "guess") {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("right token", func(t *testing.T) {
		p := newTestPoller(t, Config{Poll: Poll{URL: a.URL + "/items", Items: "/data"}, ClientAuth: ClientAuth{Type: "bearer", Token: "s3cret"}}, connectortest.NewStore(t))
		if err := p.poll(ctx, c.emit); err != nil {
			t.Fatal(err)
		}
		if got := c.take(); got != "[1 2]" {
			t.Fatalf("got %s", got)
		}
	})
	t.Run("next page on another server", func(t *testing.T) {
		evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"data":[{"id":1}],"next":"https://attacker.example/steal"}`))
		}))
		defer evil.Close()
		p := newTestPoller(t, Config{Poll: Poll{URL: evil.URL, Items: "/data", Paging: "next", Next: "/next"},
			ClientAuth: ClientAuth{Type: "bearer", Token: "s3cret"}}, connectortest.NewStore(t))
		if err := p.poll(ctx, c.emit); err == nil || !strings.Contains(err.Error(), "another server") {
			t.Fatalf("error %v", err)
		}
		c.take()
	})
	t.Run("answer too large", func(t *testing.T) {
		p := newTestPoller(t, Config{Poll: Poll{URL: a.URL + "/items", Items: "/data"}, MaxBody: 10,
			ClientAuth: ClientAuth{Type: "bearer", Token: "s3cret"}}, connectortest.NewStore(t))
		if err := p.poll(ctx, c.emit); err == nil || !strings.Contains(err.Error(), "max_body") {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("no array", func(t *testing.T) {
		p := newTestPoller(t, Config{Poll: Poll{URL: a.URL + "/items", Items: "/missing"},
			ClientAuth: ClientAuth{Type: "bearer", Token: "s3cret"}}, connectortest.NewStore(t))
		if err := p.poll(ctx, c.emit); err == nil || !strings.Contains(err.Error(), "/missing") {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("changed url", func(t *testing.T) {
		st := connectortest.NewStore(t)
		cfg := Config{Poll: Poll{URL: a.URL + "/items", Items: "/data"}, ClientAuth: ClientAuth{Type: "bearer", Token: "s3cret"}}
		if err := newTestPoller(t, cfg, st).poll(ctx, c.emit); err != nil {
			t.Fatal(err)
		}
		cfg.Poll.URL = a.URL + "/items?x=1"
		if err := newTestPoller(t, cfg, st).poll(ctx, c.emit); err == nil || !strings.Contains(err.Error(), "remove the state key") {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("no store", func(t *testing.T) {
		_, err := httpFactory(t).NewSource(&Config{Poll: Poll{URL: a.URL}}, connectors.Env{Name: "x"})
		if err == nil {
			t.Fatal("a poll source without a store was built")
		}
	})
}

func TestLinkNext(t *testing.T) {
	for in, want := range map[string]string{
		`<https://a/p2>; rel="next"`:                         "https://a/p2",
		`<https://a/p1>; rel=prev, <https://a/p3>; rel=next`: "https://a/p3",
		`<https://a/p3>; rel="last next"`:                    "https://a/p3",
		`<https://a/p1>; rel="prev"`:                         "",
		`garbage`:                                            "",
		`<unclosed; rel=next`:                                "",
	} {
		if got := linkNext([]string{in}); got != want {
			t.Errorf("linkNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzLinkNext(f *testing.F) {
	f.Add(`<https://a/p1>; rel=prev, <https://a/p3>; rel=next`)
	f.Add(`<x>;rel="next",<y>`)
	f.Fuzz(func(t *testing.T, s string) { _ = linkNext([]string{s}) })
}

func httpFactory(t *testing.T) connectors.Factory {
	f, ok := connectors.Default.Lookup("http")
	if !ok {
		t.Fatal("http not registered")
	}
	return f
}

// TestPollRun: Run polls at every interval, picks up new items, logs a failing poll once without
// the token, and stops when its context ends.
func TestPollRun(t *testing.T) {
	a := newAPI(t, 1)
	a.token = "s3cret"
	var logs syncBuffer
	cfg := Config{Poll: Poll{URL: a.URL + "/items?after=0", Paging: "next", Next: "/next", Items: "/data", Interval: spec.Duration(20 * time.Millisecond)},
		ClientAuth: ClientAuth{Type: "bearer", Token: "s3cret"}}
	src, err := httpFactory(t).NewSource(&cfg, connectors.Env{Name: "changes", State: connectortest.NewStore(t), Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	c := &collect{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, c.emit) }()
	ids := func() string {
		c.mu.Lock()
		defer c.mu.Unlock()
		return fmt.Sprint(c.ids)
	}
	waitIDs := func(want string) {
		deadline := time.Now().Add(10 * time.Second)
		for ids() != want {
			if time.Now().After(deadline) {
				t.Fatalf("got %s, want %s", ids(), want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitIDs("[1]")
	a.mu.Lock()
	a.token = "rotated" // refused for a while
	a.mu.Unlock()
	time.Sleep(100 * time.Millisecond)
	a.add(2)
	a.mu.Lock()
	a.token = "s3cret"
	a.mu.Unlock()
	waitIDs("[1 2 3]")
	time.Sleep(100 * time.Millisecond) // a few more polls: nothing repeated
	got := ids()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop")
	}
	if got != "[1 2 3]" {
		t.Fatalf("got %s, want [1 2 3]", got)
	}
	if l := logs.String(); strings.Count(l, "poll failed") != 1 || !strings.Contains(l, "poll works again") || strings.Contains(l, "s3cret") {
		t.Fatalf("logs:\n%s", l)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestAt(t *testing.T) {
	doc := json.RawMessage(`{"data":{"a/b":[10,{"x~y":"v"}]},"n":null}`)
	for ptr, want := range map[string]string{
		"":                  string(doc),
		"/data/a~1b/0":      "10",
		"/data/a~1b/1/x~0y": `"v"`,
		"/n":                "null",
		"/data/a~1b/2":      "(missing)",
		"/data/a~1b/-1":     "(missing)",
		"/missing/deeper":   "(missing)",
		"/n/deeper":         "(missing)",
	} {
		toks, err := parsePointer(ptr)
		if err != nil {
			t.Fatal(err)
		}
		v, ok, err := at(doc, toks)
		got := string(v)
		if !ok {
			got = "(missing)"
		}
		if err != nil || got != want {
			t.Errorf("at(%q) = %s, %v; want %s", ptr, got, err, want)
		}
	}
	if _, err := parsePointer("data"); err == nil {
		t.Error("a pointer without / was accepted")
	}
}

func FuzzAt(f *testing.F) {
	f.Add(`{"data":[{"id":1}],"next":"/p2"}`, "/data/0/id")
	f.Add(`[[[]]]`, "/0/0")
	f.Fuzz(func(t *testing.T, doc, ptr string) {
		toks, err := parsePointer(ptr)
		if err != nil {
			return
		}
		v, ok, err := at(json.RawMessage(doc), toks)
		if ok && err == nil && json.Valid([]byte(doc)) && !json.Valid(v) {
			t.Fatalf("at(%q, %q) = %q, not JSON", doc, ptr, v)
		}
	})
}
