package account

import (
	"context"
	"time"
)

// SetClock gives s a clock and a sleep for tests.
func SetClock(s *Service, now func() time.Time, sleep func(context.Context, time.Duration)) {
	s.now, s.sleep = now, sleep
}
