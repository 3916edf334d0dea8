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

// Classified is implemented by errors of libraries that know their own class without importing
// this package (a protocol library's client, say): Permanent reports whether a retry cannot help.
type Classified interface {
	error
	Permanent() bool
}

// IsPermanent reports whether err, or an error it wraps, was marked permanent, or is a Classified
// error that says it is.
func IsPermanent(err error) bool {
	var p permanent
	if errors.As(err, &p) {
		return true
	}
	var c Classified
	return errors.As(err, &c) && c.Permanent()
}

type retryable struct{ err error }

func (r retryable) Error() string { return r.err.Error() }
func (r retryable) Unwrap() error { return r.err }

// Retryable marks err, returned by a pipeline step, as one a later try may cure. Steps are
// deterministic, so the engine treats their errors as permanent; a step that calls out of the hub
// (enrich, calling a register) marks what depends on the other side instead. It returns nil for
// nil and leaves an error marked permanent as it is.
func Retryable(err error) error {
	if err == nil || IsPermanent(err) {
		return err
	}
	return retryable{err}
}

// IsRetryable reports whether err was marked with Retryable and not permanent.
func IsRetryable(err error) bool {
	var r retryable
	return errors.As(err, &r) && !IsPermanent(err)
}
