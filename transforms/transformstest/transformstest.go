// Package transformstest holds what the tests of the steps share.
package transformstest

import "testing"

// WantErr checks err against want, the exact text of the error a case expects, or against no
// error when want is empty. It reports whether the case goes on to check its result: only when
// no error was expected (and none came).
func WantErr(t testing.TB, err error, want string) bool {
	t.Helper()
	if want != "" {
		if err == nil || err.Error() != want {
			t.Fatalf("error = %v\nwant %s", err, want)
		}
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return true
}
