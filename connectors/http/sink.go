package httpconn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/envelope"
	"github.com/aiskao/aiskao/fault"
)

// snippetMax bounds how much of a refusing answer's body goes into the error.
const snippetMax = 512

type sink struct {
	name      string
	url       string
	shownURL  string // without credentials, for errors
	method    string
	headers   http.Header
	client    *http.Client
	transport *http.Transport
	authorize func(context.Context, *http.Request) error // nil without client_auth
	log       *slog.Logger
	closed    atomic.Bool
}

func newSink(cfg any, env connectors.Env) (*sink, error) {
	c, err := options(cfg)
	if err != nil {
		return nil, fmt.Errorf("http sink %s: %w", env.Name, err)
	}
	if c.URL == "" {
		return nil, fmt.Errorf("http sink %s: url is required to deliver messages", env.Name)
	}
	u, _ := url.Parse(c.URL) // checked by Validate
	h := http.Header{}
	for k, v := range c.Headers {
		h.Set(k, v)
	}
	cl, err := newClient(env, c)
	if err != nil {
		return nil, fmt.Errorf("http sink %s: %w", env.Name, err)
	}
	return &sink{
		name:      env.Name,
		url:       c.URL,
		shownURL:  u.Redacted(),
		method:    c.Method,
		headers:   h,
		client:    cl.http,
		transport: cl.transport,
		authorize: cl.authorize,
		log:       env.Log(),
	}, nil
}

// Send delivers msg with one request; see the package documentation for the headers and for
// which failures are permanent.
func (s *sink) Send(ctx context.Context, msg *message.Message) error {
	if s.closed.Load() {
		return fmt.Errorf("http sink %s: send after close", s.name)
	}
	req, err := http.NewRequestWithContext(ctx, s.method, s.url, bytes.NewReader(msg.Payload))
	if err != nil {
		return fault.Permanent(fmt.Errorf("http sink %s: request to %s: %w", s.name, s.shownURL, err))
	}
	req.Header = s.headers.Clone()
	if ct := msg.Metadata.Get(envelope.ContentType); ct != "" {
		req.Header.Set("Content-Type", ct)
	} else if req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	req.Header.Set("X-Message-Id", msg.UUID)
	if s.authorize != nil {
		if err := s.authorize(ctx, req); err != nil {
			return fmt.Errorf("http sink %s: %w", s.name, err)
		}
	}
	req.Header.Set("Ce-Id", ceValue(msg.UUID))
	req.Header.Set("Ce-Specversion", "1.0")
	for _, name := range envelope.Names {
		if v := msg.Metadata.Get(name); v != "" && name != envelope.ContentType {
			req.Header.Set("Ce-"+strings.ReplaceAll(name, "_", ""), ceValue(v))
		}
	}

	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("http sink %s: %s %s: %w", s.name, s.method, s.shownURL, unwrapURLError(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		// Read what is left (within reason) so that the connection is kept for the next one.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil
	}
	err = fmt.Errorf("http sink %s: %s %s answered %s: %s", s.name, s.method, s.shownURL, resp.Status, snippet(resp.Body))
	switch {
	case resp.StatusCode >= 500, resp.StatusCode == http.StatusRequestTimeout, resp.StatusCode == http.StatusTooManyRequests:
		return err
	default:
		return fault.Permanent(err)
	}
}

// Close drops idle connections; Sends after it fail. It can be called more than once.
func (s *sink) Close() error {
	if !s.closed.Swap(true) {
		s.transport.CloseIdleConnections()
	}
	return nil
}

// unwrapURLError drops the *url.Error layer, whose text repeats the method and address.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// snippet returns the start of a body on one line, for an error.
func snippet(r io.Reader) string {
	buf, _ := io.ReadAll(io.LimitReader(r, snippetMax+1))
	cut := len(buf) > snippetMax
	if cut {
		buf = buf[:snippetMax]
	}
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(buf), "?")), " ")
	switch {
	case s == "":
		return "(empty body)"
	case cut:
		return s + "…"
	}
	return s
}

// ceValue percent-encodes what the CloudEvents HTTP binding asks: space, double quote, percent
// and every byte outside printable ASCII.
func ceValue(v string) string {
	clean := true
	for i := 0; i < len(v); i++ {
		if c := v[i]; c <= ' ' || c > '~' || c == '"' || c == '%' {
			clean = false
			break
		}
	}
	if clean {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c <= ' ' || c > '~' || c == '"' || c == '%' {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}
