package httpconn

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/aiskao/aiskao/identity/apitoken"
)

// How the ingress reads API tokens while the store is in trouble: a read waits at most
// tokenReadTimeout, and when the store cannot answer, the record read last for the token serves
// for up to tokenStaleFor. With RabbitMQ and PostgreSQL, the database being unreachable must not
// stop the ingress, since the broker still takes the messages; a token revoked meanwhile is
// refused once the store answers again, or after tokenStaleFor.
const (
	tokenReadTimeout = time.Second
	tokenStaleFor    = 10 * time.Minute
)

// steadyTokens is a token lookup that does not hang on a store that does not answer.
type steadyTokens struct {
	lookup apitoken.Lookup
	log    *slog.Logger
	now    func() time.Time

	mu      sync.Mutex
	last    map[string]readToken // by token id; starts again empty past cacheLimit entries
	failing bool                 // the last read failed: logged once until one succeeds
	trying  bool                 // a read is under way
}

type readToken struct {
	r  apitoken.Record
	at time.Time
}

// tokenMemory bounds the records remembered for outages, as apitoken.Cache bounds its own.
const tokenMemory = 10000

func newSteadyTokens(lookup apitoken.Lookup, log *slog.Logger) *steadyTokens {
	return &steadyTokens{lookup: lookup, log: log, now: time.Now, last: map[string]readToken{}}
}

// TokenByID reads the record from the store within tokenReadTimeout; when the store fails (not
// when it answers that the token is unknown), it returns the record read last for id within
// tokenStaleFor, or the store's error.
func (s *steadyTokens) TokenByID(ctx context.Context, id string) (apitoken.Record, error) {
	// While the store fails, one caller at a time tries it; the others take the record read
	// before at once rather than each wait tokenReadTimeout.
	s.mu.Lock()
	if prev, ok := s.last[id]; ok && s.failing && s.trying && s.now().Sub(prev.at) < tokenStaleFor {
		s.mu.Unlock()
		return prev.r, nil
	}
	s.trying = true
	s.mu.Unlock()
	rctx, cancel := context.WithTimeout(ctx, tokenReadTimeout)
	r, err := s.lookup.TokenByID(rctx, id)
	cancel()
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.trying = false
	switch {
	case err == nil:
		if len(s.last) >= tokenMemory {
			s.last = map[string]readToken{}
		}
		s.last[id] = readToken{r: r, at: now}
		if s.failing {
			s.failing = false
			s.log.Info("API tokens read from the store again")
		}
		return r, nil
	case errors.Is(err, apitoken.ErrNotFound):
		delete(s.last, id)
		return r, err
	}
	prev, ok := s.last[id]
	if !s.failing {
		s.failing = true
		s.log.Warn("API tokens cannot be read from the store; tokens read in the last minutes serve meanwhile",
			"stale_for", tokenStaleFor, "error", err)
	}
	if ok && now.Sub(prev.at) < tokenStaleFor {
		return prev.r, nil
	}
	return r, err
}
