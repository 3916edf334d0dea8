// Package fault classifies errors for the engine's retry policy.
//
// An error marked permanent is not retried: the message goes straight to the dead letters. Transform
// steps are deterministic, so their errors are permanent; connectors mark what they know cannot
// succeed on a second try (an HTTP 4xx answer, a malformed message).
package fault

import "errors"

type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent marks err as one that a retry cannot fix. It returns nil for nil.
func Permanent(err error) error {
	if err == nil || IsPermanent(err) {
		return err
	}
	return permanent{err}
}

// IsPermanent reports whether err, or an error it wraps, was marked permanent.
func IsPermanent(err error) bool {
	var p permanent
	return errors.As(err, &p)
}
