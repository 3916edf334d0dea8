package esoed

import "time"

// RetrySchedule is the specification's retry strategy for a message whose sending ended with
// an exception: the first retry 15 minutes after the first attempt, each next interval doubled,
// at most 10 retries (11 attempts in all: the last 128 hours after the one before it, 10 days,
// 15 hours and 45 minutes after the first).
type RetrySchedule struct {
	// First is the interval before the first retry: 15 minutes; shorter only for tests.
	First time.Duration
	// Retries is the number of retries after the first attempt: 10.
	Retries int
}

// DefaultRetry is the schedule the specification prescribes.
var DefaultRetry = RetrySchedule{First: 15 * time.Minute, Retries: 10}

// Delay returns the interval before retry n (1 for the first retry), and false when n is past
// the last one.
func (s RetrySchedule) Delay(n int) (time.Duration, bool) {
	if n < 1 || n > s.Retries {
		return 0, false
	}
	return s.First << (n - 1), true
}

// Next returns when to make the next attempt after attempt number attempts (1 for the first
// attempt) made at last, and false when no attempt remains.
func (s RetrySchedule) Next(attempts int, last time.Time) (time.Time, bool) {
	d, ok := s.Delay(attempts)
	if !ok {
		return time.Time{}, false
	}
	return last.Add(d), true
}
