package ops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/aiskao/aiskao/identity/httpauth"
	"github.com/aiskao/aiskao/store"
)

// Client calls the operations API of a running hub.
type Client struct {
	// BaseURL is the address of the API without a trailing path, for example
	// "http://127.0.0.1:9090".
	BaseURL string
	// HTTP sends the requests; nil means http.DefaultClient, which has no timeout. Give it a
	// tls.Config with the API's CA (and a client certificate, for mutual TLS) for an https BaseURL.
	HTTP *http.Client
	// Token is the API token sent as Authorization: Bearer; empty sends none.
	Token string
}

// Error is an error answer of the API: its HTTP status and the server's error text. It matches
// store.ErrNotFound for 404 and ErrUnknownRoute for 409 under errors.Is.
type Error struct {
	Status  int    // HTTP status code
	Message string // the server's error text
}

// Error implements error.
func (e *Error) Error() string {
	return fmt.Sprintf("operations API: %s (HTTP %d %s)", e.Message, e.Status, http.StatusText(e.Status))
}

// Is lets callers test an API error with errors.Is(err, store.ErrNotFound) or
// errors.Is(err, ErrUnknownRoute), as they would against a Backend.
func (e *Error) Is(target error) bool {
	switch target {
	case store.ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrUnknownRoute:
		return e.Status == http.StatusConflict
	}
	return false
}

// maxErrorBody bounds how much of an error answer is read.
const maxErrorBody = 64 << 10

// List returns dead letters without payloads, newest first: only those of route when it is not
// empty, and at most limit (the server's default, 100, when limit is 0).
func (c *Client) List(ctx context.Context, route string, limit int) ([]store.DeadLetter, error) {
	q := url.Values{}
	if route != "" {
		q.Set("route", route)
	}
	if limit != 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out deadLetterList
	if err := c.do(ctx, http.MethodGet, "/api/v1/dead-letters", q, http.StatusOK, &out); err != nil {
		return nil, withContext("listing dead letters", err)
	}
	dls := make([]store.DeadLetter, 0, len(out.DeadLetters))
	for _, j := range out.DeadLetters {
		d, err := fromJSON(j)
		if err != nil {
			return nil, fmt.Errorf("listing dead letters: %w", err)
		}
		dls = append(dls, d)
	}
	return dls, nil
}

// Journal returns journal entries, newest first, narrowed by f (the server's default limit, 100,
// when f.Limit is 0).
func (c *Client) Journal(ctx context.Context, f store.JournalFilter) ([]store.JournalEntry, error) {
	q := url.Values{}
	for k, v := range map[string]string{"kind": f.Kind, "route": f.Route, "dossier": f.Dossier} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.Limit != 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	var out journalList
	if err := c.do(ctx, http.MethodGet, "/api/v1/journal", q, http.StatusOK, &out); err != nil {
		return nil, withContext("listing the journal", err)
	}
	return out.Entries, nil
}

// Get returns one dead letter with its payload.
func (c *Client) Get(ctx context.Context, id string) (store.DeadLetter, error) {
	var j deadLetterJSON
	if err := c.do(ctx, http.MethodGet, deadLetterPath(id), nil, http.StatusOK, &j); err != nil {
		return store.DeadLetter{}, withContext(fmt.Sprintf("reading dead letter %q", id), err)
	}
	d, err := fromJSON(j)
	if err != nil {
		return store.DeadLetter{}, fmt.Errorf("reading dead letter %q: %w", id, err)
	}
	return d, nil
}

// Replay publishes the dead letter's message back onto its route, deletes the dead letter and
// returns the id of the published message.
func (c *Client) Replay(ctx context.Context, id string) (messageID string, err error) {
	var out replayResult
	if err := c.do(ctx, http.MethodPost, deadLetterPath(id)+"/replay", nil, http.StatusAccepted, &out); err != nil {
		return "", withContext(fmt.Sprintf("replaying dead letter %q", id), err)
	}
	return out.MessageID, nil
}

// Delete removes a dead letter without replaying it.
func (c *Client) Delete(ctx context.Context, id string) error {
	if err := c.do(ctx, http.MethodDelete, deadLetterPath(id), nil, http.StatusNoContent, nil); err != nil {
		return withContext(fmt.Sprintf("deleting dead letter %q", id), err)
	}
	return nil
}

// withContext says what the client was doing when err is a failure to reach or understand the
// server; an *Error is returned as it is, since the server's text already names the action.
func withContext(doing string, err error) error {
	if _, ok := errors.AsType[*Error](err); ok {
		return err
	}
	return fmt.Errorf("%s: %w", doing, err)
}

func deadLetterPath(id string) string {
	return "/api/v1/dead-letters/" + url.PathEscape(id)
}

// do sends one request and decodes a JSON answer of status want into out (when out is not nil).
func (c *Client) do(ctx context.Context, method, path string, q url.Values, want int, out any) error {
	u := strings.TrimRight(c.BaseURL, "/") + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return fmt.Errorf("operations API: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("operations API: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		return readError(resp)
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("operations API: %s %s: decoding the answer: %w", method, u, err)
	}
	return nil
}

// readError turns an error answer into *Error, taking the text from {"error": "..."} when the
// body is JSON and from the body itself otherwise (net/http's own 404 and 405 are plain text).
func readError(resp *http.Response) error {
	e := &Error{Status: resp.StatusCode}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	if err != nil && !errors.Is(err, io.EOF) {
		e.Message = fmt.Sprintf("reading the error answer: %v", err)
		return e
	}
	switch mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt {
	case "application/json":
		var ej errorJSON
		if json.Unmarshal(body, &ej) == nil && ej.Error != "" {
			e.Message = ej.Error
			return e
		}
	case "application/problem+json":
		var p httpauth.Problem
		if json.Unmarshal(body, &p) == nil && p.Title != "" {
			e.Message = p.Title
			if p.Detail != "" {
				e.Message += ": " + p.Detail
			}
			return e
		}
	}
	e.Message = strings.TrimSpace(string(body))
	if e.Message == "" {
		e.Message = "the server gave no reason"
	}
	return e
}
