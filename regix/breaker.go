package regix

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Breaker is a circuit breaker for each register: after Failures
// consecutive failures of the kind a retry may cure (timeouts, broken
// connections, server faults, the register's HasError) calls to that
// register fail fast for Pause, so that a register that is down is not
// hammered by every message that needs it. After the pause one trial call
// goes through (half-open): its success closes the circuit, its failure
// opens it for another pause. Errors a retry cannot change (a bad request,
// an invalid answer) show that the register answers, and close it.
//
// A Breaker with Failures zero or less never opens. It is safe for
// concurrent use.
type Breaker struct {
	failures int
	pause    time.Duration
	now      func() time.Time

	mu    sync.Mutex
	state map[string]*circuit
}

type circuit struct {
	failures  int
	openUntil time.Time // zero when closed
	trial     bool      // a half-open trial call is in flight
	last      string    // the last failure's text
}

// NewBreaker returns a breaker that opens after failures consecutive
// failures and lets a trial call through after pause.
func NewBreaker(failures int, pause time.Duration) *Breaker {
	return &Breaker{failures: failures, pause: pause, now: time.Now, state: map[string]*circuit{}}
}

// OpenError is the error of a call refused because the register's circuit
// is open. It is retryable: the message is tried again later.
type OpenError struct {
	// Register is the register's folder name, e.g. "grao-nbd".
	Register string
	// Failures is how many calls failed in a row before it opened.
	Failures int
	// Until is when a trial call will be let through.
	Until time.Time
	// Wait is how long that was from the refusal.
	Wait time.Duration
	// Last is the text of the last failure.
	Last string
}

func (e *OpenError) Error() string {
	wait := e.Wait.Round(time.Second)
	return fmt.Sprintf("regix: регистърът %s е временно изключен след %d поредни грешки, нов опит след %s / register %s is cut off after %d consecutive failures, next try in %s; last failure: %s",
		e.Register, e.Failures, wait, e.Register, e.Failures, wait, e.Last)
}

// Allow says whether a call to register may go out now: nil, or an
// *OpenError. A nil return must be followed by Done with the call's error.
func (b *Breaker) Allow(register string) error {
	if b == nil || b.failures <= 0 {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.state[register]
	if c == nil || c.openUntil.IsZero() {
		return nil
	}
	if now := b.now(); now.Before(c.openUntil) || c.trial {
		return &OpenError{Register: register, Failures: c.failures, Until: c.openUntil, Wait: max(c.openUntil.Sub(now), 0), Last: c.last}
	}
	c.trial = true
	return nil
}

// Done records the outcome of a call that Allow let through.
func (b *Breaker) Done(register string, err error) {
	if b == nil || b.failures <= 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.state[register]
	if c == nil {
		c = &circuit{}
		b.state[register] = c
	}
	wasTrial := c.trial
	c.trial = false
	switch {
	case errors.Is(err, context.Canceled):
		// The caller gave up; nothing was learnt about the register.
	case err == nil || IsPermanent(err):
		c.failures, c.openUntil, c.last = 0, time.Time{}, ""
	default:
		c.failures++
		c.last = err.Error()
		if wasTrial || c.failures >= b.failures {
			c.openUntil = b.now().Add(b.pause)
		}
	}
}
