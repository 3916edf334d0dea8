package httpconn

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/envelope"
	"github.com/aiskao/aiskao/internal/bytesize"
	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/store"
)

// Poll is the options of a polling source.
type Poll struct {
	URL      string        `yaml:"url" doc:"Address GETted for messages, http or https; the first page." example:"https://registry.example.bg/api/changes?limit=100"`
	Interval spec.Duration `yaml:"interval" doc:"How long to wait after the last page before asking again." default:"1m" example:"30s"`
	Items    string        `yaml:"items" doc:"JSON pointer (RFC 6901) to the array of items in the answer; empty: the answer is the array." example:"/data"`
	ID       string        `yaml:"id" doc:"JSON pointer inside an item to its id, which the message id is made from; empty: the page's address and the item's place in it." example:"/id"`
	Paging   string        `yaml:"paging" doc:"How the next page is found. none: one page; next: a URL at the JSON pointer next; link: the Link header's rel=next; page: the query parameter param counts pages of page_size items; offset: the query parameter param counts items." enum:"none,next,link,page,offset" default:"none"`
	Next     string        `yaml:"next" doc:"paging next: JSON pointer to the next page's URL; null, empty or missing on the last page." example:"/links/next"`
	Param    string        `yaml:"param" doc:"paging page or offset: the query parameter." example:"page"`
	PageSize int           `yaml:"page_size" doc:"paging page: the items of a full page; a page with fewer is the last for now and is asked again." min:"1" example:"100"`
	MaxPages int           `yaml:"max_pages" doc:"Most pages read in one poll, so that a server that never ends its pages cannot keep the source busy." default:"100" min:"1" example:"1000"`
}

func (p *Poll) validate(add func(field, format string, args ...any)) {
	if err := checkHTTPURL(p.URL); err != nil {
		add("poll.url", "%v", err)
	}
	if p.Interval <= 0 {
		add("poll.interval", "must be more than 0, such as 1m")
	}
	for _, f := range []struct{ field, ptr string }{{"poll.items", p.Items}, {"poll.id", p.ID}, {"poll.next", p.Next}} {
		if _, err := parsePointer(f.ptr); err != nil {
			add(f.field, "%v", err)
		}
	}
	switch p.Paging {
	case "none", "link":
	case "next":
		if p.Next == "" {
			add("poll.next", "required with paging next: the JSON pointer to the next page's URL, such as /next")
		}
	case "page", "offset":
		if p.Param == "" {
			add("poll.param", "required with paging %s: the query parameter, such as %s", p.Paging, p.Paging)
		}
		if p.Paging == "page" && p.PageSize < 1 {
			add("poll.page_size", "required with paging page: the items of a full page")
		}
	default:
		add("poll.paging", "%q is not one of none, next, link, page, offset", p.Paging)
	}
	if p.MaxPages < 1 {
		add("poll.max_pages", "must be at least 1")
	}
}

func checkHTTPURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return fmt.Errorf("%q is not a URL: %v", s, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("%q must start with http:// or https://", s)
	case u.Host == "":
		return fmt.Errorf("%q names no host", s)
	}
	return nil
}

// parsePointer splits an RFC 6901 JSON pointer into its unescaped tokens.
func parsePointer(p string) ([]string, error) {
	if p == "" {
		return nil, nil
	}
	if !strings.HasPrefix(p, "/") {
		return nil, fmt.Errorf("%q is not a JSON pointer: it must start with /", p)
	}
	toks := strings.Split(p[1:], "/")
	for i, t := range toks {
		toks[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return toks, nil
}

// at returns the JSON value at the pointer's tokens in doc, keeping its bytes as they came; ok is
// false when a step is missing.
func at(doc json.RawMessage, toks []string) (json.RawMessage, bool, error) {
	for _, t := range toks {
		doc = bytes.TrimSpace(doc)
		switch {
		case len(doc) > 0 && doc[0] == '{':
			var m map[string]json.RawMessage
			if err := json.Unmarshal(doc, &m); err != nil {
				return nil, false, err
			}
			v, ok := m[t]
			if !ok {
				return nil, false, nil
			}
			doc = v
		case len(doc) > 0 && doc[0] == '[':
			var a []json.RawMessage
			if err := json.Unmarshal(doc, &a); err != nil {
				return nil, false, err
			}
			i, err := strconv.Atoi(t)
			if err != nil || i < 0 || i >= len(a) {
				return nil, false, nil
			}
			doc = a[i]
		default:
			return nil, false, nil
		}
	}
	return doc, true, nil
}

// stateKey is the key of the poll cursor in the hub's store, under the route "connector:<name>".
const pollStateKey = "poll"

// cursor is where a poll source stopped: the page to ask next and how many of its items were
// stored already. First is the configured first page, to notice a changed configuration.
type cursor struct {
	First string `json:"first"`
	URL   string `json:"url"`
	Done  int    `json:"done"`
}

// pollIDSpace is the namespace of the ids of polled items.
var pollIDSpace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("urn:aiskao:connector:http:poll"))

type poller struct {
	name    string
	cfg     Config
	first   *url.URL
	items   []string
	id      []string
	next    []string
	headers http.Header
	client  *client
	st      store.State
	log     *slog.Logger
	running atomic.Bool
}

func newPoller(c Config, env connectors.Env) (*poller, error) {
	if env.State == nil && !env.Check {
		return nil, errors.New("poll needs the hub's store to remember where it stopped")
	}
	cl, err := newClient(env, c)
	if err != nil {
		return nil, err
	}
	first, _ := url.Parse(c.Poll.URL) // checked by Validate
	p := &poller{name: env.Name, cfg: c, first: first, client: cl, st: env.State, log: env.Log(), headers: http.Header{}}
	p.items, _ = parsePointer(c.Poll.Items)
	p.id, _ = parsePointer(c.Poll.ID)
	p.next, _ = parsePointer(c.Poll.Next)
	for k, v := range c.Headers {
		p.headers.Set(k, v)
	}
	return p, nil
}

// Run polls until ctx is done.
func (p *poller) Run(ctx context.Context, emit connectors.Emit) error {
	if !p.running.CompareAndSwap(false, true) {
		return fmt.Errorf("http source %s: already running", p.name)
	}
	defer p.running.Store(false)
	defer p.client.transport.CloseIdleConnections()
	failing := false
	for {
		err := p.poll(ctx, emit)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil && !failing:
			p.log.Error("poll failed; trying again at every interval", "url", p.first.Redacted(), "error", err)
			failing = true
		case err == nil && failing:
			p.log.Info("poll works again", "url", p.first.Redacted())
			failing = false
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(p.cfg.Poll.Interval.D()):
		}
	}
}

// load returns the stored cursor, or the first page.
func (p *poller) load(ctx context.Context) (cursor, error) {
	b, err := p.st.GetState(ctx, "connector:"+p.name, pollStateKey)
	if errors.Is(err, store.ErrNotFound) {
		return cursor{First: p.cfg.Poll.URL, URL: p.cfg.Poll.URL}, nil
	}
	if err != nil {
		return cursor{}, fmt.Errorf("read the cursor: %w", err)
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil || c.URL == "" || c.Done < 0 {
		return cursor{}, fmt.Errorf("the cursor in the hub's store is not readable; remove the state key %q of connector:%s to start from poll.url", pollStateKey, p.name)
	}
	if c.First != p.cfg.Poll.URL {
		return cursor{}, fmt.Errorf("the cursor in the hub's store was made for poll.url %s; remove the state key %q of connector:%s to start from the new one",
			redact(c.First), pollStateKey, p.name)
	}
	return c, nil
}

func (p *poller) save(ctx context.Context, c cursor) error {
	b, _ := json.Marshal(c)
	if err := p.st.PutState(ctx, "connector:"+p.name, pollStateKey, b); err != nil {
		return fmt.Errorf("store the cursor: %w", err)
	}
	return nil
}

// poll reads pages from the cursor on, until the last one or max_pages.
func (p *poller) poll(ctx context.Context, emit connectors.Emit) error {
	cur, err := p.load(ctx)
	if err != nil {
		return err
	}
	for range p.cfg.Poll.MaxPages {
		page, err := url.Parse(cur.URL)
		if err != nil {
			return fmt.Errorf("the cursor's page %q: %w", redact(cur.URL), err)
		}
		body, hdr, err := p.get(ctx, page)
		if err != nil {
			return err
		}
		raw, ok, err := at(body, p.items)
		if err != nil || !ok {
			return fmt.Errorf("GET %s: no JSON array at %q (items)", page.Redacted(), p.cfg.Poll.Items)
		}
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return fmt.Errorf("GET %s: the value at %q (items) is not a JSON array", page.Redacted(), p.cfg.Poll.Items)
		}
		if cur.Done > len(items) {
			cur.Done = len(items) // the page shrank: its new items, if any, were not seen
		}
		var msgs []*message.Message
		for i := cur.Done; i < len(items); i++ {
			m, err := p.message(page, i, items[i])
			if err != nil {
				return err
			}
			msgs = append(msgs, m)
		}
		if len(msgs) > 0 {
			if err := emit(ctx, msgs...); err != nil {
				return fmt.Errorf("items of %s not stored: %w", page.Redacted(), err)
			}
		}
		next, err := p.nextPage(page, body, hdr, len(items))
		if err != nil {
			return err
		}
		if next == nil || next.String() == page.String() {
			if len(msgs) > 0 {
				return p.save(ctx, cursor{First: cur.First, URL: page.String(), Done: len(items)})
			}
			return nil
		}
		cur = cursor{First: cur.First, URL: next.String(), Done: 0}
		if err := p.save(ctx, cur); err != nil {
			return err
		}
	}
	return nil
}

// message makes the message of the i-th item of page.
func (p *poller) message(page *url.URL, i int, item json.RawMessage) (*message.Message, error) {
	name := fmt.Sprintf("%s\x00%s\x00%d", p.name, page.String(), i)
	if p.id != nil {
		v, ok, err := at(item, p.id)
		if err != nil || !ok || len(v) == 0 || string(v) == "null" {
			return nil, fmt.Errorf("GET %s: item %d has no id at %q (id)", page.Redacted(), i, p.cfg.Poll.ID)
		}
		name = p.name + "\x00" + string(v)
	}
	m := message.NewMessage(uuid.NewSHA1(pollIDSpace, []byte(name)).String(), bytes.Clone(item))
	m.Metadata.Set(envelope.ContentType, "application/json")
	if p.cfg.MessageType != "" {
		m.Metadata.Set(envelope.Type, p.cfg.MessageType)
	}
	return m, nil
}

// get asks for one page and returns its body, at most max_body.
func (p *poller) get(ctx context.Context, page *url.URL) (json.RawMessage, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, page.String(), nil)
	if err != nil {
		return nil, nil, fmt.Errorf("GET %s: %w", page.Redacted(), err)
	}
	req.Header = p.headers.Clone()
	req.Header.Set("Accept", "application/json")
	if p.client.authorize != nil {
		if err := p.client.authorize(ctx, req); err != nil {
			return nil, nil, err
		}
	}
	resp, err := p.client.http.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("GET %s: %w", page.Redacted(), unwrapURLError(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("GET %s answered %s: %s", page.Redacted(), resp.Status, snippet(resp.Body))
	}
	limit := int64(p.cfg.MaxBody)
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, nil, fmt.Errorf("GET %s: %w", page.Redacted(), err)
	}
	if int64(len(body)) > limit {
		return nil, nil, fmt.Errorf("GET %s: answer larger than %s (max_body)", page.Redacted(), bytesize.Format(limit))
	}
	if !json.Valid(body) {
		return nil, nil, fmt.Errorf("GET %s: the answer is not JSON", page.Redacted())
	}
	return body, resp.Header, nil
}

// nextPage returns the page after page, or nil when page is the last for now. A next page on
// another server is refused: the hub's credentials would go there.
func (p *poller) nextPage(page *url.URL, body json.RawMessage, hdr http.Header, n int) (*url.URL, error) {
	var ref string
	switch p.cfg.Poll.Paging {
	case "none":
		return nil, nil
	case "next":
		v, ok, err := at(body, p.next)
		if err != nil || !ok || string(v) == "null" {
			return nil, nil
		}
		if err := json.Unmarshal(v, &ref); err != nil {
			return nil, fmt.Errorf("GET %s: the value at %q (next) is not a string", page.Redacted(), p.cfg.Poll.Next)
		}
	case "link":
		ref = linkNext(hdr.Values("Link"))
	case "page", "offset":
		q := page.Query()
		v, _ := strconv.Atoi(q.Get(p.cfg.Poll.Param))
		if p.cfg.Poll.Paging == "page" {
			if n < p.cfg.Poll.PageSize {
				return nil, nil
			}
			if v < 1 {
				v = 1
			}
			v++
		} else {
			if n == 0 {
				return nil, nil
			}
			v += n
		}
		q.Set(p.cfg.Poll.Param, strconv.Itoa(v))
		next := *page
		next.RawQuery = q.Encode()
		return &next, nil
	}
	if ref == "" {
		return nil, nil
	}
	next, err := page.Parse(ref)
	if err != nil {
		return nil, fmt.Errorf("GET %s: next page %q: %w", page.Redacted(), ref, err)
	}
	if next.Scheme != p.first.Scheme || next.Host != p.first.Host {
		return nil, fmt.Errorf("GET %s: the next page %s is on another server than poll.url; refused", page.Redacted(), next.Redacted())
	}
	return next, nil
}

// linkNext returns the target of rel="next" in Link header values (RFC 8288), or "".
func linkNext(values []string) string {
	for _, v := range values {
		for len(v) > 0 {
			v = strings.TrimLeft(v, " ,")
			if !strings.HasPrefix(v, "<") {
				break
			}
			end := strings.IndexByte(v, '>')
			if end < 0 {
				break
			}
			target := v[1:end]
			v = v[end+1:]
			params := v
			if i := strings.IndexByte(v, ','); i >= 0 {
				params, v = v[:i], v[i+1:]
			} else {
				v = ""
			}
			for _, prm := range strings.Split(params, ";") {
				k, val, _ := strings.Cut(strings.TrimSpace(prm), "=")
				if strings.EqualFold(k, "rel") {
					for _, r := range strings.Fields(strings.Trim(val, `"`)) {
						if strings.EqualFold(r, "next") {
							return target
						}
					}
				}
			}
		}
	}
	return ""
}

func redact(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	return "(unreadable address)"
}
