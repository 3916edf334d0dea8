package httpconn

import (
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"golang.org/x/sync/semaphore"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/envelope"
	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/identity/httpauth"
	"github.com/aiskao/aiskao/internal/bytesize"
	"github.com/aiskao/aiskao/internal/memlimit"
)

// Texts of the answers that carry no data; the others are built in the handler.
const (
	textEmpty      = "Празно тяло / empty body"
	textUnreadable = "Тялото не може да бъде прочетено / cannot read body"
	textBadKey     = "Невалиден Idempotency-Key / invalid Idempotency-Key: want 1 to 255 printable ASCII characters"
	textNotYet     = "Приемането още не е започнало, опитайте пак / not accepting messages yet, try again"
	textStopping   = "Приемането спира, опитайте пак / shutting down, try again"
	// textMaybeStored is followed by the key to send again with.
	textMaybeStored = "Съобщението може да не е съхранено: изпратете го пак със заглавката / message may not be stored: send it again with the header Idempotency-Key: "
	textBusy        = "Хъбът приема твърде много данни в момента, опитайте пак / too many bodies being received, try again"
)

// idSpace is the namespace of the ids derived from Idempotency-Key headers.
var idSpace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("urn:aiskao:connector:http:idempotency-key"))

type source struct {
	name        string
	cfg         Config
	allowed     map[string]bool
	allowedText string
	tooLarge    string
	log         *slog.Logger
	guard       *httpauth.Guard // nil for auth type none
	role        identity.Role   // the role an api_key token must have

	mu       sync.RWMutex
	emit     connectors.Emit // nil while not running
	running  bool
	stopped  bool
	inflight sync.WaitGroup // emits under way, waited for by Run before it returns

	started   chan struct{} // closed when Run first starts
	startOnce sync.Once
	startWait time.Duration

	room     *semaphore.Weighted // bytes of bodies held, being received or stored
	roomMax  int64
	roomWait time.Duration // how long a request waits for room before its 503
}

func newSource(cfg any, env connectors.Env) (*source, error) {
	c, err := options(cfg)
	if err != nil {
		return nil, fmt.Errorf("http source %s: %w", env.Name, err)
	}
	if c.Listen == "" {
		return nil, fmt.Errorf("http source %s: listen and path, or poll.url, are required to receive messages", env.Name)
	}
	if env.Mux == nil {
		return nil, fmt.Errorf("http source %s: the hub offers no HTTP server", env.Name)
	}
	s := &source{name: env.Name, cfg: c, allowed: map[string]bool{}, log: env.Log(), started: make(chan struct{}), startWait: defaultStartWait,
		roomMax: int64(c.MaxInFlight), roomWait: defaultRoomWait}
	if s.roomMax <= 0 {
		s.roomMax = memlimit.Budget()
	}
	s.room = semaphore.NewWeighted(s.roomMax)
	for _, ct := range c.ContentTypes {
		mt, _, _ := mime.ParseMediaType(ct) // checked by Validate
		s.allowed[mt] = true
	}
	s.allowedText = strings.Join(c.ContentTypes, ", ")
	size := bytesize.Format(int64(c.MaxBody))
	s.tooLarge = fmt.Sprintf("Тялото е по-голямо от %s / body larger than %s", size, size)

	if s.guard, err = newGuard(env, c); err != nil {
		return nil, fmt.Errorf("http source %s: auth: %w", env.Name, err)
	}
	s.role = identity.Role(c.Auth.Role)
	if env.ListenerTLS == nil && c.TLS.Cert != "" {
		return nil, fmt.Errorf("http source %s: the hub offers no HTTPS server", env.Name)
	}
	if env.ListenerTLS != nil {
		if err := env.ListenerTLS(c.Listen, resolve(env.BaseDir, c.TLS.Cert), resolve(env.BaseDir, c.TLS.Key)); err != nil {
			return nil, fmt.Errorf("http source %s: tls: %w", env.Name, err)
		}
	}
	mux, err := env.Mux(c.Listen)
	if err != nil {
		return nil, fmt.Errorf("http source %s: server for %s: %w", env.Name, c.Listen, err)
	}
	pattern := c.Path
	if strings.HasSuffix(pattern, "/") {
		pattern += "{$}" // the path itself, not the tree below it
	}
	if err := handle(mux, pattern, s); err != nil {
		return nil, fmt.Errorf("http source %s: path %s on %s: %w", env.Name, c.Path, c.Listen, err)
	}
	return s, nil
}

// handle registers h, turning the panic of a conflicting pattern (two connectors on one path)
// into an error.
func handle(mux *http.ServeMux, pattern string, h http.Handler) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	mux.Handle(pattern, h)
	return nil
}

// defaultStartWait is how long a request that arrives before the source runs waits for it.
const defaultStartWait = 5 * time.Second

// defaultRoomWait is how long a request waits for room among the bodies held (max_in_flight_bytes)
// before it is told to come back: long enough for a burst to be stored, short enough that the
// client's own timeout has not passed.
const defaultRoomWait = 2 * time.Second

// Run hands received messages to emit until ctx is done, then waits for the emits under way.
func (s *source) Run(ctx context.Context, emit connectors.Emit) error {
	s.mu.Lock()
	if s.running {
		s.mu.Unlock()
		return fmt.Errorf("http source %s: already running", s.name)
	}
	s.emit, s.running, s.stopped = emit, true, false
	s.startOnce.Do(func() { close(s.started) })
	s.mu.Unlock()

	<-ctx.Done()

	s.mu.Lock()
	s.emit, s.running, s.stopped = nil, false, true
	s.mu.Unlock()
	s.inflight.Wait()
	return nil
}

// acquire returns the emit function and counts one emit under way, or the text of a 503.
func (s *source) acquire() (connectors.Emit, string) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	switch {
	case s.emit != nil:
		s.inflight.Add(1) // under the lock, so before Run's Wait
		return s.emit, ""
	case s.stopped:
		return nil, textStopping
	default:
		return nil, textNotYet
	}
}

func (s *source) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, fmt.Sprintf("Методът %s не е разрешен, използвайте POST / method %s not allowed, use POST", r.Method, r.Method), http.StatusMethodNotAllowed)
		return
	}
	if s.guard != nil {
		p, ok := s.guard.Check(w, r)
		if !ok {
			return
		}
		if p.Kind == identity.KindToken && !slices.Contains(p.Roles, s.role) {
			s.guard.Refuse(w, &httpauth.Refusal{Status: http.StatusForbidden, Reason: httpauth.ReasonForbidden,
				Detail: "principal " + p.String() + " does not have role " + string(s.role)})
			return
		}
	}
	ct := r.Header.Get("Content-Type")
	if text := s.checkType(ct); text != "" {
		http.Error(w, text, http.StatusUnsupportedMediaType)
		return
	}
	var key string
	ctx := r.Context()
	if k, ok := r.Header["Idempotency-Key"]; ok {
		if len(k) != 1 || !validKey(k[0]) {
			http.Error(w, textBadKey, http.StatusBadRequest)
			return
		}
		key = k[0]
	} else {
		key = issueKey(time.Now())
		ctx = connectors.WithNewIDs(ctx)
	}
	id := s.idOf(key)
	body, held, status, text := s.readBody(w, r)
	defer s.room.Release(held) // the transport has its copy once emit returns
	if status != 0 {
		if status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "1")
		}
		http.Error(w, text, status)
		return
	}

	emit, text := s.acquire()
	if emit == nil && text == textNotYet {
		// The server may answer a moment before the hub has started the source: wait for it
		// rather than refuse a message that would be taken a millisecond later.
		t := time.NewTimer(s.startWait)
		select {
		case <-s.started:
			emit, text = s.acquire()
		case <-t.C:
		case <-r.Context().Done():
		}
		t.Stop()
	}
	if emit == nil {
		w.Header().Set("Retry-After", "1")
		http.Error(w, text, http.StatusServiceUnavailable)
		return
	}
	defer s.inflight.Done()

	msg := message.NewMessage(id, body)
	msg.Metadata.Set(envelope.ContentType, ct)
	if s.cfg.MessageType != "" {
		msg.Metadata.Set(envelope.Type, s.cfg.MessageType)
	}
	if err := emit(ctx, msg); err != nil {
		// The transport may have stored the message before the failure (a confirmation lost
		// with the connection, or late): the key makes a retry the same message, which the
		// routes then take once.
		s.log.Warn("message may not be stored; client told to retry with its key", "id", id, "error", err)
		w.Header().Set("Retry-After", "1")
		w.Header().Set("Idempotency-Key", key)
		w.Header().Set("X-Message-Id", id)
		http.Error(w, textMaybeStored+key, http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"id":"`+id+`"}`+"\n") // ids are UUIDs: nothing to escape
}

// checkType returns the text of a 415 answer, or "" when ct is accepted.
func (s *source) checkType(ct string) string {
	if strings.TrimSpace(ct) == "" {
		return "Липсва Content-Type / Content-Type missing; allowed: " + s.allowedText
	}
	if mt, _, err := mime.ParseMediaType(ct); err == nil && s.allowed[mt] {
		return ""
	}
	return fmt.Sprintf("Типът %s не се приема / content type %s not allowed; allowed: %s", ct, ct, s.allowedText)
}

// readBody reads the whole body into one buffer sized from Content-Length when it is known,
// once the source has room for it among the bodies it holds; the room taken is returned, to be
// given back when the body is stored. On failure it returns the status and text of the answer.
func (s *source) readBody(w http.ResponseWriter, r *http.Request) (_ []byte, held int64, _ int, _ string) {
	limit := int64(s.cfg.MaxBody)
	if r.ContentLength > limit {
		return nil, 0, http.StatusRequestEntityTooLarge, s.tooLarge
	}
	// The wait's deadline (and its timer) is made only when there is no room at once, which
	// under a steady load is seldom.
	var ctx context.Context
	var cancel context.CancelFunc
	defer func() {
		if cancel != nil {
			cancel()
		}
	}()
	// reserve takes room for a body of n bytes in all; a body larger than all the room takes
	// all of it, and so is received alone. Taking room at once is refused while others wait for
	// it, so that the waiting are served first.
	reserve := func(n int64) bool {
		need := min(n, s.roomMax) - held
		if need <= 0 {
			return true
		}
		if !s.room.TryAcquire(need) {
			if ctx == nil {
				ctx, cancel = context.WithTimeout(r.Context(), s.roomWait)
			}
			if err := s.room.Acquire(ctx, need); err != nil {
				return false
			}
		}
		held += need
		return true
	}
	body := http.MaxBytesReader(w, r.Body, limit)
	var buf []byte
	var err error
	if r.ContentLength >= 0 {
		if !reserve(r.ContentLength) {
			return nil, held, http.StatusServiceUnavailable, textBusy
		}
		buf = make([]byte, r.ContentLength)
		_, err = io.ReadFull(body, buf)
	} else {
		// Sent chunked: room is taken as the buffer grows.
		first := min(limit+1, 32<<10)
		if !reserve(first) {
			return nil, held, http.StatusServiceUnavailable, textBusy
		}
		buf = make([]byte, 0, first)
		for err == nil {
			if len(buf) == cap(buf) {
				grown := min(int64(2*cap(buf)), limit+1)
				if !reserve(grown) {
					return nil, held, http.StatusServiceUnavailable, textBusy
				}
				buf = slices.Grow(buf, int(grown)-len(buf))
			}
			var n int
			n, err = body.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
		}
		if err == io.EOF {
			err = nil
		}
	}
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, held, http.StatusRequestEntityTooLarge, s.tooLarge
	case err != nil:
		return nil, held, http.StatusBadRequest, textUnreadable
	case len(buf) == 0:
		return nil, held, http.StatusBadRequest, textEmpty
	}
	return buf, held, 0, ""
}

// idOf returns the id of the message sent with key: a name-based UUID (version 5) of the
// connector's name and the key, or for a key the source issued itself (issueKey), a
// time-ordered UUID (version 7) of the key's time whose other bits come from the same hash, so
// that messages sent without a key keep ids in the order they came. Either way the id depends
// on the connector's name, so a key cannot reach the ids of another connector's messages.
func (s *source) idOf(key string) string {
	name := []byte(s.name + "\x00" + key)
	ms, ok := issuedAt(key)
	if !ok {
		return uuid.NewSHA1(idSpace, name).String()
	}
	h := sha1.New()
	_, _ = h.Write(idSpace[:])
	_, _ = h.Write(name)
	sum := h.Sum(nil)
	var u uuid.UUID
	binary.BigEndian.PutUint64(u[0:8], ms<<16) // 48 bits of milliseconds; the next 16 are set below
	copy(u[6:], sum[:10])
	u[6] = u[6]&0x0f | 0x70 // version 7
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return u.String()
}

// issueKey returns a new key for a message sent without one: its time in milliseconds and 16
// random bytes, in hex, "0190a5b2c3d4.9f86d081884c7d659a2feaa0c55ad015".
func issueKey(now time.Time) string {
	var ms [8]byte
	binary.BigEndian.PutUint64(ms[:], uint64(now.UnixMilli())&(1<<48-1))
	var b [16]byte
	_, _ = rand.Read(b[:])
	// One allocation, not fmt's several: a key is made for every request sent without one.
	var key [12 + 1 + 32]byte
	hex.Encode(key[:12], ms[2:])
	key[12] = '.'
	hex.Encode(key[13:], b[:])
	return string(key[:])
}

// issuedAt returns the time of a key of issueKey's form.
func issuedAt(key string) (uint64, bool) {
	if len(key) != 12+1+32 || key[12] != '.' {
		return 0, false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if i != 12 && !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return 0, false
		}
	}
	var ms uint64
	for _, c := range key[:12] {
		ms <<= 4
		if c <= '9' {
			ms |= uint64(c - '0')
		} else {
			ms |= uint64(c-'a') + 10
		}
	}
	return ms, true
}

func validKey(k string) bool {
	if len(k) == 0 || len(k) > 255 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x20 || k[i] > 0x7e {
			return false
		}
	}
	return true
}
