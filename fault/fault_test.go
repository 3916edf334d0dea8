package fault

import (
	"errors"
	"fmt"
	"testing"
)

type classified bool

func (c classified) Error() string   { return "classified" }
func (c classified) Permanent() bool { return bool(c) }

func TestIsPermanent(t *testing.T) {
	plain := errors.New("plain")
	for _, tt := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"plain", plain, false},
		{"marked", Permanent(plain), true},
		{"marked and wrapped", fmt.Errorf("x: %w", Permanent(plain)), true},
		{"retryable", Retryable(plain), false},
		{"library says permanent", fmt.Errorf("x: %w", classified(true)), true},
		{"library says retryable", fmt.Errorf("x: %w", classified(false)), false},
	} {
		if got := IsPermanent(tt.err); got != tt.want {
			t.Errorf("%s: IsPermanent = %v, want %v", tt.name, got, tt.want)
		}
	}
	if !IsRetryable(Retryable(classified(false))) || IsRetryable(Retryable(classified(true))) {
		t.Error("IsRetryable must defer to a library's own class")
	}
}
