package ops

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/aiskao/aiskao/store"
)

// newClient serves a new fixture's Handler over HTTP and returns a Client for it.
func newClient(t *testing.T) (*fixture, *Client) {
	t.Helper()
	f := newFixture(t)
	srv := httptest.NewServer(f.handler())
	t.Cleanup(srv.Close)
	return f, &Client{BaseURL: srv.URL + "/", HTTP: srv.Client(), Token: f.tokens["operator"]}
}

// A client without a token, or with one of the wrong role, gets the server's problem details.
func TestClientRefused(t *testing.T) {
	f, c := newClient(t)
	c.Token = ""
	_, err := c.List(context.Background(), "", 0)
	var e *Error
	if !errors.As(err, &e) || e.Status != http.StatusUnauthorized ||
		e.Message != "Unauthorized: an API token (Authorization: Bearer) or a client certificate is required" {
		t.Errorf("List without a token: error %v, want 401 with the problem's title and detail", err)
	}
	c.Token = f.tokens["auditor"]
	err = c.Delete(context.Background(), f.ids["utf8"])
	if !errors.As(err, &e) || e.Status != http.StatusForbidden {
		t.Errorf("Delete as auditor: error %v, want 403", err)
	}
	f.mustKept(t, "utf8")
}

func TestClientList(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name  string
		route string
		limit int
		want  []string // fixture names, newest first
	}{
		{"all", "", 0, []string{"empty", "gone", "binary", "utf8"}},
		{"route", "incoming-documents", 0, []string{"binary", "utf8"}},
		{"route and limit", "incoming-documents", 1, []string{"binary"}},
		{"limit", "", 2, []string{"empty", "gone"}},
		{"no such route", "nothing", 10, []string{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, cl := newClient(t)
			got, err := cl.List(ctx, c.route, c.limit)
			if err != nil {
				t.Fatal(err)
			}
			want := make([]store.DeadLetter, 0, len(c.want))
			for _, name := range c.want {
				d, err := f.backend.st.GetDeadLetter(ctx, f.ids[name])
				if err != nil {
					t.Fatal(err)
				}
				d.Payload = nil // listings carry no payload
				want = append(want, d)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("List(%q, %d):\n got %+v\nwant %+v", c.route, c.limit, got, want)
			}
		})
	}
}

func TestClientGet(t *testing.T) {
	ctx := context.Background()
	for _, name := range []string{"utf8", "binary", "gone", "empty"} {
		t.Run(name, func(t *testing.T) {
			f, cl := newClient(t)
			got, err := cl.Get(ctx, f.ids[name])
			if err != nil {
				t.Fatal(err)
			}
			want, err := f.backend.st.GetDeadLetter(ctx, f.ids[name])
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Payload, want.Payload) {
				t.Errorf("payload %q, want %q", got.Payload, want.Payload)
			}
			got.Payload, want.Payload = nil, nil
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Get:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

// Ids are path-escaped: one with a slash and a space still names one dead letter.
func TestClientGetEscapesID(t *testing.T) {
	ctx := context.Background()
	f, cl := newClient(t)
	id, err := f.backend.st.AddDeadLetter(ctx, store.DeadLetter{ID: "a/b c?d", Route: "r", Payload: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	d, err := cl.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if d.ID != id || string(d.Payload) != "x" {
		t.Errorf("got %+v, want id %q with payload x", d, id)
	}
	if err := cl.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
}

func TestClientReplay(t *testing.T) {
	ctx := context.Background()
	f, cl := newClient(t)
	mid, err := cl.Replay(ctx, f.ids["utf8"])
	if err != nil {
		t.Fatal(err)
	}
	if mid != "replay-of-m-1" {
		t.Errorf("message id %q, want replay-of-m-1", mid)
	}
	f.mustGone(t, "utf8")
}

func TestClientDelete(t *testing.T) {
	ctx := context.Background()
	f, cl := newClient(t)
	if err := cl.Delete(ctx, f.ids["gone"]); err != nil {
		t.Fatal(err)
	}
	f.mustGone(t, "gone")
}

// Errors carry the server's status and text, and match the Backend's sentinel errors.
func TestClientErrors(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name   string
		call   func(*fixture, *Client) error
		status int
		is     error // nil when no sentinel applies
		text   string
	}{
		{"get unknown", func(_ *fixture, c *Client) error { _, err := c.Get(ctx, "nope"); return err },
			404, store.ErrNotFound, `operations API: dead letter "nope" not found (HTTP 404 Not Found)`},
		{"replay unknown", func(_ *fixture, c *Client) error { _, err := c.Replay(ctx, "nope"); return err },
			404, store.ErrNotFound, `operations API: dead letter "nope" not found (HTTP 404 Not Found)`},
		{"replay route gone", func(f *fixture, c *Client) error { _, err := c.Replay(ctx, f.ids["gone"]); return err },
			409, ErrUnknownRoute, `operations API: dead letter "{gone}" cannot be replayed: route is not configured: "removed-route" (HTTP 409 Conflict)`},
		{"delete unknown", func(_ *fixture, c *Client) error { return c.Delete(ctx, "nope") },
			404, store.ErrNotFound, `operations API: dead letter "nope" not found (HTTP 404 Not Found)`},
		{"bad limit", func(_ *fixture, c *Client) error { _, err := c.List(ctx, "", -1); return err },
			400, nil, `operations API: query parameter limit must be a whole number from 1 to 1000, got "-1" (HTTP 400 Bad Request)`},
		{"store fails", func(f *fixture, c *Client) error {
			f.backend.broken = errors.New("disk I/O error")
			_, err := c.List(ctx, "", 0)
			return err
		}, 500, nil, `operations API: listing dead letters: disk I/O error (HTTP 500 Internal Server Error)`},
		{"plain-text answer of net/http", func(_ *fixture, c *Client) error {
			c.BaseURL = strings.TrimSuffix(c.BaseURL, "/") + "/elsewhere"
			_, err := c.List(ctx, "", 0)
			return err
		}, 404, store.ErrNotFound, `operations API: 404 page not found (HTTP 404 Not Found)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, cl := newClient(t)
			err := c.call(f, cl)
			var ae *Error
			if !errors.As(err, &ae) {
				t.Fatalf("error %v (%T), want an *Error", err, err)
			}
			if ae.Status != c.status {
				t.Errorf("status %d, want %d", ae.Status, c.status)
			}
			for _, sentinel := range []error{store.ErrNotFound, ErrUnknownRoute} {
				if got, want := errors.Is(err, sentinel), sentinel == c.is; got != want {
					t.Errorf("errors.Is(err, %q) = %v, want %v", sentinel, got, want)
				}
			}
			if want := f.expand(c.text); err.Error() != want {
				t.Errorf("error\n%s\nwant\n%s", err, want)
			}
		})
	}
}

func TestClientServerDown(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	cl := &Client{BaseURL: url}
	_, err := cl.List(context.Background(), "", 0)
	var ae *Error
	if err == nil || errors.As(err, &ae) {
		t.Fatalf("error %v, want a connection error", err)
	}
	if !strings.Contains(err.Error(), "listing dead letters: operations API: ") {
		t.Errorf("error %q lacks its context", err)
	}
}

func TestClientJournal(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		f    store.JournalFilter
		want []string // entry ids, newest first
	}{
		{"all", store.JournalFilter{}, []string{"j-2", "j-1"}},
		{"dossier", store.JournalFilter{Dossier: "D-1"}, []string{"j-1"}},
		{"kind route limit", store.JournalFilter{Kind: "esoed.received", Limit: 1}, []string{"j-2"}},
		{"nothing", store.JournalFilter{Route: "none"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, cl := newClient(t)
			got, err := cl.Journal(ctx, c.f)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, e := range got {
				ids = append(ids, e.ID)
			}
			if !reflect.DeepEqual(ids, c.want) {
				t.Errorf("Journal(%+v) ids = %v, want %v", c.f, ids, c.want)
			}
			if len(got) > 0 && got[len(got)-1].ID == "j-1" && got[len(got)-1].Detail["egn"] != "******1234" {
				t.Errorf("entry j-1 detail = %v, want egn kept as stored", got[len(got)-1].Detail)
			}
		})
	}
	_, cl := newClient(t)
	if _, err := cl.Journal(ctx, store.JournalFilter{Limit: 5000}); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("Journal with limit 5000: error %v, want one naming the limit", err)
	}
}
