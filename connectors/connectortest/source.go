package connectortest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/connectors"
)

// SourceFixture is one source under test with the means to feed it from outside.
type SourceFixture struct {
	// Source is a new source, not yet running.
	Source connectors.Source
	// Put offers payload to the source as one outside sender would and waits for the answer: nil
	// once the source acknowledged the input (the sender may forget it), an error when the source
	// refused it or ctx ended first. After an error the suite calls Put again with the same
	// payload, as a sender retries, so Put must not leave a second copy behind: a file fixture,
	// for instance, names the file after the payload.
	Put func(ctx context.Context, payload []byte) error
}

// SourceCase describes how to build the sources that RunSource checks.
type SourceCase struct {
	// New returns a fresh fixture; it is called once per check, and registers its own cleanup.
	New func(t *testing.T) SourceFixture
	// Payloads are the inputs offered; nil means DefaultPayloads.
	Payloads [][]byte
	// Timeout bounds every wait for something that must happen; zero means 10s.
	Timeout time.Duration
	// Quiet is how long a stopped source is given to take an input it must not take; zero
	// means 200ms. It is the only fixed wait of the suite: absence cannot be polled for.
	Quiet time.Duration
}

// DefaultPayloads returns the inputs used when a case gives none: XML with Cyrillic text, JSON,
// every byte value from 0 to 255, and 256 KiB of varied bytes.
func DefaultPayloads() [][]byte {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	big := make([]byte, 256<<10)
	for i := range big {
		big[i] = byte(i*7 + i>>8)
	}
	return [][]byte{
		[]byte(`<?xml version="1.0" encoding="UTF-8"?><Заявление><Услуга>Удостоверение за наследници</Услуга></Заявление>`),
		[]byte(`{"subject":"АИС-2024-000123","services":[1,2,3]}`),
		all,
		big,
	}
}

// RunSource checks that the sources built by c behave as the engine relies on; see the package
// documentation.
func RunSource(t *testing.T, c SourceCase) {
	t.Helper()
	if c.Payloads == nil {
		c.Payloads = DefaultPayloads()
	}
	if c.Timeout == 0 {
		c.Timeout = 10 * time.Second
	}
	if c.Quiet == 0 {
		c.Quiet = 200 * time.Millisecond
	}
	t.Run("EmitsEachInputOnce", func(t *testing.T) { sourceEmitsOnce(t, c) })
	t.Run("NoAckWhenEmitFails", func(t *testing.T) { sourceNoAckOnError(t, c) })
	t.Run("StopsOnCancel", func(t *testing.T) { sourceStops(t, c) })
}

// recorder is the suite's emit: it keeps what was emitted and can fail the first attempt for
// each payload.
type recorder struct {
	failFirst bool

	mu       sync.Mutex
	attempts map[string]int // by payload
	stored   map[string]int // successful emits, by payload
	ids      map[string]string
	problems []string
}

func newRecorder(failFirst bool) *recorder {
	return &recorder{failFirst: failFirst, attempts: map[string]int{}, stored: map[string]int{}, ids: map[string]string{}}
}

var errRefused = errors.New("connectortest: emit refused on purpose")

func (r *recorder) emit(_ context.Context, msgs ...*message.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	fail := false
	for _, m := range msgs {
		p := string(m.Payload)
		if r.failFirst && r.attempts[p] == 0 {
			fail = true
		}
		r.attempts[p]++
	}
	if fail {
		return errRefused
	}
	for _, m := range msgs {
		p := string(m.Payload)
		switch prev, dup := r.ids[m.UUID]; {
		case m.UUID == "":
			r.problems = append(r.problems, fmt.Sprintf("message with payload %s has an empty id", short(m.Payload)))
		case dup && prev != p:
			r.problems = append(r.problems, fmt.Sprintf("id %q given to two payloads: %s and %s", m.UUID, short([]byte(prev)), short(m.Payload)))
		}
		r.ids[m.UUID] = p
		r.stored[p]++ // counted before returning nil: an ack seen earlier is premature
	}
	return nil
}

func (r *recorder) storedCount(p []byte) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stored[string(p)]
}

func (r *recorder) attemptCount(p []byte) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.attempts[string(p)]
}

func (r *recorder) check(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.problems {
		t.Error(p)
	}
}

// run starts src and returns a function that cancels it and waits for Run to return nil.
func run(t *testing.T, c SourceCase, src connectors.Source, emit connectors.Emit) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, emit) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run returned %v after its context was cancelled; want nil", err)
				}
			case <-time.After(c.Timeout):
				t.Errorf("Run did not return within %s after its context was cancelled", c.Timeout)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// deliver offers p until the source acknowledges it, as a sender retrying after refusals would.
func deliver(t *testing.T, c SourceCase, fx SourceFixture, rec *recorder, p []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), c.Timeout)
	defer cancel()
	var last error
	for ctx.Err() == nil {
		last = fx.Put(ctx, p)
		if last == nil {
			if rec.storedCount(p) == 0 {
				t.Errorf("input %s acknowledged before emit returned nil for it", short(p))
			}
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Millisecond): // a sender's pause between retries
		}
	}
	t.Errorf("input %s not acknowledged within %s; last answer: %v", short(p), c.Timeout, last)
}

func sourceEmitsOnce(t *testing.T, c SourceCase) {
	fx := c.New(t)
	rec := newRecorder(false)
	stop := run(t, c, fx.Source, rec.emit)
	var wg sync.WaitGroup
	for _, p := range c.Payloads {
		wg.Go(func() { deliver(t, c, fx, rec, p) })
	}
	wg.Wait()
	stop()
	rec.check(t)
	for _, p := range c.Payloads {
		if n := rec.storedCount(p); n != 1 {
			t.Errorf("input %s emitted %d times; want exactly once", short(p), n)
		}
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.stored) != len(c.Payloads) {
		t.Errorf("emitted %d distinct payloads for %d inputs; a payload was altered", len(rec.stored), len(c.Payloads))
	}
}

func sourceNoAckOnError(t *testing.T, c SourceCase) {
	fx := c.New(t)
	rec := newRecorder(true)
	stop := run(t, c, fx.Source, rec.emit)
	p := c.Payloads[0]
	deliver(t, c, fx, rec, p)
	stop()
	rec.check(t)
	if n := rec.attemptCount(p); n < 2 {
		t.Errorf("emit called %d times for an input whose first emit failed; want it offered again", n)
	}
	if n := rec.storedCount(p); n != 1 {
		t.Errorf("input emitted successfully %d times; want once", n)
	}
}

func sourceStops(t *testing.T, c SourceCase) {
	fx := c.New(t)
	rec := newRecorder(false)
	stop := run(t, c, fx.Source, rec.emit)
	deliver(t, c, fx, rec, c.Payloads[0])
	stop()
	late := append([]byte("after stop: "), c.Payloads[0]...)
	ctx, cancel := context.WithTimeout(context.Background(), c.Quiet)
	defer cancel()
	if err := fx.Put(ctx, late); err == nil {
		t.Errorf("input acknowledged after Run returned")
	}
	if n := rec.attemptCount(late); n != 0 {
		t.Errorf("emit called %d times after Run returned; want none", n)
	}
}

// short describes a payload in an error without flooding the output.
func short(p []byte) string {
	const max = 40
	if !isText(p) {
		return fmt.Sprintf("(%d bytes, binary)", len(p))
	}
	s := strings.ToValidUTF8(string(p), "?")
	if r := []rune(s); len(r) > max {
		s = string(r[:max]) + "…"
	}
	return fmt.Sprintf("%q (%d bytes)", s, len(p))
}

func isText(p []byte) bool {
	return !bytes.ContainsFunc(p, func(r rune) bool { return r < 0x20 && r != '\n' && r != '\t' })
}
