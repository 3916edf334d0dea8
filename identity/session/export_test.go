package session

import "time"

// SetClock gives m a clock for tests.
func SetClock(m *Manager, now func() time.Time) { m.now = now }
