package mailconn

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"sort"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/emersion/go-imap"
	"github.com/emersion/go-imap/client"
	"github.com/google/uuid"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/envelope"
	"github.com/aiskao/aiskao/store"
)

// Metadata set by the source on each message. From and subject are personal data: they stay in
// the message and its metadata, never in the logs.
const (
	MetaFrom      = "mail_from"
	MetaSubject   = "mail_subject"
	MetaMessageID = "mail_message_id"
	MetaUID       = "mail_uid"
	// MetaParseError holds why a mail could not be read into JSON (format json): its message
	// then carries the raw mail as message/rfc822, which a route expecting JSON dead-letters.
	MetaParseError = "mail_parse_error"
)

// stateKey is the state key under "connector:NAME" holding the position in the mailbox.
const stateKey = "imap"

// idSpace is the namespace of the ids of taken mails.
var idSpace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("urn:aiskao:connector:mail"))

// position is where the source is in its mailbox: the mailbox's UIDVALIDITY and the last UID
// taken. UIDs only grow while UIDVALIDITY stays the same.
type position struct {
	Mailbox     string `json:"mailbox"`
	UIDValidity uint32 `json:"uidvalidity"`
	UID         uint32 `json:"uid"`
}

type source struct {
	name    string
	cfg     Config
	baseDir string
	st      store.State
	log     *slog.Logger
	running atomic.Bool
	failing bool // the last poll failed: logged once until one succeeds
}

func newSource(cfg any, env connectors.Env) (*source, error) {
	c, err := options(cfg, env, ProtoIMAP)
	if err != nil {
		return nil, fmt.Errorf("mail source %s: %w", env.Name, err)
	}
	if env.State == nil && !env.Check {
		return nil, fmt.Errorf("mail source %s: no hub store to remember the position in", env.Name)
	}
	return &source{name: env.Name, cfg: c, baseDir: env.BaseDir, st: env.State, log: env.Log()}, nil
}

// Run polls the mailbox until ctx is done.
func (s *source) Run(ctx context.Context, emit connectors.Emit) error {
	if !s.running.CompareAndSwap(false, true) {
		return fmt.Errorf("mail source %s: already running", s.name)
	}
	defer s.running.Store(false)
	tick := time.NewTicker(s.cfg.PollInterval.D())
	defer tick.Stop()
	for {
		err := s.poll(ctx, emit)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil && !s.failing:
			s.log.Warn("mailbox not read; trying again at every poll", "error", maskText(err.Error()))
			s.failing = true
		case err == nil && s.failing:
			s.log.Info("mailbox read again")
			s.failing = false
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// dial connects, secures and logs in.
func (s *source) dial(ctx context.Context) (*client.Client, error) {
	tc, err := s.cfg.tlsConfig(s.baseDir)
	if err != nil {
		return nil, err
	}
	d := &net.Dialer{Timeout: s.cfg.Timeout.D()}
	raw, err := d.DialContext(ctx, "tcp", s.cfg.addr())
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", s.cfg.addr(), err)
	}
	// A stop while connecting closes the connection itself: the client's Terminate would race
	// the connection that STARTTLS swaps in.
	stop := context.AfterFunc(ctx, func() { _ = raw.Close() })
	defer stop()
	conn := raw
	if s.cfg.Security == SecTLS {
		conn = tls.Client(raw, tc)
	}
	if s.cfg.Timeout.D() > 0 {
		_ = raw.SetDeadline(time.Now().Add(s.cfg.Timeout.D())) // the greeting and the TLS handshake
	}
	c, err := client.New(conn)
	if err != nil {
		_ = raw.Close()
		return nil, fmt.Errorf("connect to %s: %w", s.cfg.addr(), err)
	}
	_ = raw.SetDeadline(time.Time{})
	c.Timeout = s.cfg.Timeout.D()
	// A connection closed at stop is not news; errors come back from the calls. The client's
	// reader already runs: its logger is quietened in place (log.Logger is safe for that), not
	// replaced.
	if l, ok := c.ErrorLog.(*log.Logger); ok {
		l.SetOutput(io.Discard)
	}
	if s.cfg.Security == SecStartTLS {
		ok, err := c.SupportStartTLS()
		if err == nil && !ok {
			err = errors.New("the server does not offer STARTTLS; refusing to log in without TLS")
		}
		if err == nil {
			err = c.StartTLS(tc)
		}
		if err != nil {
			_ = c.Terminate()
			return nil, fmt.Errorf("starttls with %s: %w", s.cfg.addr(), err)
		}
	}
	if err := c.Login(s.cfg.Username, s.cfg.Password); err != nil {
		_ = c.Terminate()
		return nil, fmt.Errorf("log in to %s as %s: %w", s.cfg.addr(), maskAddr(s.cfg.Username), err)
	}
	return c, nil
}

// poll takes the new mails, a batch at a time, until none is left.
func (s *source) poll(ctx context.Context, emit connectors.Emit) error {
	c, err := s.dial(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = c.Logout() }()
	stop := context.AfterFunc(ctx, func() { _ = c.Terminate() })
	defer stop()
	mbox, err := c.Select(s.cfg.Mailbox, false)
	if err != nil {
		return fmt.Errorf("select mailbox %q: %w", s.cfg.Mailbox, err)
	}
	pos, err := s.load(ctx)
	if err != nil {
		return err
	}
	fresh := pos.UIDValidity != mbox.UidValidity || pos.Mailbox != s.cfg.Mailbox
	if fresh {
		if pos.UIDValidity != 0 {
			s.log.Warn("the mailbox's UIDVALIDITY changed: its UIDs were renumbered; taking the mails not yet taken",
				"mailbox", s.cfg.Mailbox, "was", pos.UIDValidity, "now", mbox.UidValidity)
		}
		pos = position{Mailbox: s.cfg.Mailbox, UIDValidity: mbox.UidValidity}
	}
	crit := imap.NewSearchCriteria()
	crit.Uid = new(imap.SeqSet)
	crit.Uid.AddRange(pos.UID+1, 0) // 0 is *
	if fresh && s.cfg.After == AfterSeen {
		crit.WithoutFlags = []string{imap.SeenFlag}
	}
	uids, err := c.UidSearch(crit)
	if err != nil {
		return fmt.Errorf("search mailbox %q: %w", s.cfg.Mailbox, err)
	}
	var todo []uint32
	for _, u := range uids {
		if u > pos.UID { // n:* always matches the last mail, even below n
			todo = append(todo, u)
		}
	}
	sort.Slice(todo, func(i, j int) bool { return todo[i] < todo[j] })
	for len(todo) > 0 && ctx.Err() == nil {
		n := min(len(todo), s.cfg.Batch)
		if err := s.take(ctx, c, emit, &pos, todo[:n]); err != nil {
			return err
		}
		todo = todo[n:]
	}
	if fresh && ctx.Err() == nil && mbox.UidNext > pos.UID+1 {
		// Starting over, the mails already read were left out; remember that they were passed,
		// or the next poll would take them as new.
		pos.UID = mbox.UidNext - 1
		b, _ := json.Marshal(pos)
		if err := s.st.PutState(ctx, "connector:"+s.name, stateKey, b); err != nil {
			return fmt.Errorf("remember the position: %w", err)
		}
	}
	return nil
}

// load reads the remembered position.
func (s *source) load(ctx context.Context) (position, error) {
	var p position
	b, err := s.st.GetState(ctx, "connector:"+s.name, stateKey)
	if errors.Is(err, store.ErrNotFound) {
		return p, nil
	}
	if err != nil {
		return p, fmt.Errorf("read the position from the hub's store: %w", err)
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("the position in the hub's store is not readable (%v); remove the state key %q of connector:%s to start over", err, stateKey, s.name)
	}
	return p, nil
}

// take fetches the mails of uids, emits them, and once they are stored marks or moves them and
// remembers the last UID.
func (s *source) take(ctx context.Context, c *client.Client, emit connectors.Emit, pos *position, uids []uint32) error {
	set := new(imap.SeqSet)
	set.AddNum(uids...)
	// The sizes first, so that no mail over max_size is downloaded.
	sizes := map[uint32]uint32{}
	ch := make(chan *imap.Message, len(uids))
	if err := c.UidFetch(set, []imap.FetchItem{imap.FetchUid, imap.FetchRFC822Size}, ch); err != nil {
		return fmt.Errorf("fetch sizes: %w", err)
	}
	for m := range ch {
		sizes[m.Uid] = m.Size
	}
	want := new(imap.SeqSet)
	var big []uint32
	for _, u := range uids {
		if int64(sizes[u]) > int64(s.cfg.MaxSize) {
			big = append(big, u)
			continue
		}
		want.AddNum(u)
	}
	section := &imap.BodySectionName{Peek: true}
	bodies := map[uint32][]byte{}
	if !want.Empty() {
		ch = make(chan *imap.Message, len(uids))
		done := make(chan error, 1)
		go func() { done <- c.UidFetch(want, []imap.FetchItem{imap.FetchUid, section.FetchItem()}, ch) }()
		for m := range ch {
			if r := m.GetBody(section); r != nil {
				b, err := io.ReadAll(io.LimitReader(r, int64(s.cfg.MaxSize)+1))
				if err == nil && int64(len(b)) <= int64(s.cfg.MaxSize) {
					bodies[m.Uid] = b
				}
			}
		}
		if err := <-done; err != nil {
			return fmt.Errorf("fetch mails: %w", err)
		}
	}
	var msgs []*message.Message
	got := new(imap.SeqSet)
	for _, u := range uids {
		raw, ok := bodies[u]
		if !ok {
			if want.Contains(u) { // grew past max_size since its size was read, or expunged meanwhile
				big = append(big, u)
			}
			continue
		}
		got.AddNum(u)
		msgs = append(msgs, s.message(pos.UIDValidity, u, raw))
	}
	if len(msgs) > 0 {
		if err := emit(ctx, msgs...); err != nil {
			return fmt.Errorf("mails not stored; read again at the next poll: %w", err)
		}
	}
	for _, u := range big {
		s.log.Error("mail larger than max_size left in the mailbox and flagged", "uid", u, "size", sizes[u], "max_size", int64(s.cfg.MaxSize))
	}
	if len(big) > 0 {
		bs := new(imap.SeqSet)
		bs.AddNum(big...)
		if err := c.UidStore(bs, imap.FormatFlagsOp(imap.AddFlags, true), []interface{}{imap.FlaggedFlag}, nil); err != nil {
			s.log.Warn("cannot flag the mails over max_size", "error", err)
		}
	}
	var err error // the mails over max_size stay as they are, flagged, for a person to see
	switch {
	case got.Empty():
	case s.cfg.After == AfterMove:
		err = c.UidMove(got, s.cfg.MoveTo)
	default:
		err = c.UidStore(got, imap.FormatFlagsOp(imap.AddFlags, true), []interface{}{imap.SeenFlag}, nil)
	}
	if err != nil {
		// Stored but not marked: go on; the remembered UID keeps them from being taken again.
		s.log.Warn("mails stored but not marked or moved", "after", s.cfg.After, "error", err)
	}
	pos.UID = uids[len(uids)-1]
	b, _ := json.Marshal(pos)
	if err := s.st.PutState(ctx, "connector:"+s.name, stateKey, b); err != nil {
		// A restart before the position is remembered takes them again under the same ids.
		s.log.Warn("mails stored but the position not remembered", "error", err)
	}
	return nil
}

// message makes the hub message of one mail.
func (s *source) message(validity, uid uint32, raw []byte) *message.Message {
	id := uuid.NewSHA1(idSpace, []byte(s.name+"\x00"+s.cfg.Mailbox+"\x00"+strconv.FormatUint(uint64(validity), 10)+"\x00"+strconv.FormatUint(uint64(uid), 10))).String()
	m, perr := parseMail(raw, limits{parts: s.cfg.MaxParts, depth: s.cfg.MaxDepth})
	payload, ct := raw, "message/rfc822"
	if s.cfg.Format == FormatJSON && perr == nil {
		payload, _ = json.Marshal(m)
		ct = "application/json"
	}
	msg := message.NewMessage(id, payload)
	msg.Metadata.Set(envelope.ContentType, ct)
	msg.Metadata.Set(MetaUID, strconv.FormatUint(uint64(uid), 10))
	if s.cfg.MessageType != "" {
		msg.Metadata.Set(envelope.Type, s.cfg.MessageType)
	}
	if m != nil {
		if len(m.From) > 0 {
			msg.Metadata.Set(MetaFrom, m.From[0])
		}
		msg.Metadata.Set(MetaSubject, m.Subject)
		msg.Metadata.Set(MetaMessageID, m.MessageID)
	}
	if perr != nil && s.cfg.Format == FormatJSON {
		s.log.Warn("mail cannot be parsed; it goes on as raw message/rfc822", "uid", uid, "error", perr)
		msg.Metadata.Set(MetaParseError, perr.Error())
	}
	return msg
}
