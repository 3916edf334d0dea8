package regix

import "errors"

// PermanentError is a failure that a second try of the same call cannot cure: a
// refused request, an answer that breaks its schema, a SOAP fault about the
// call itself. Every other error of the client (no answer in time, a broken
// connection, an open circuit, a register's HasError) may succeed later.
//
// The package imports nothing of the engine; Permanent reports the class, and
// the engine's fault package reads it through that method.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent reports true: retrying the call cannot help.
func (e *PermanentError) Permanent() bool { return true }

// permanent marks err as a PermanentError; nil stays nil.
func permanent(err error) error {
	if err == nil || IsPermanent(err) {
		return err
	}
	return &PermanentError{Err: err}
}

// IsPermanent reports whether err, or an error it wraps, is a PermanentError.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}
