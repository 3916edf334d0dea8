package storesql

import (
	"testing"
	"time"
)

func TestTimeScan(t *testing.T) {
	at := time.Date(2026, 12, 5, 1, 2, 3, 456789012, time.UTC)
	sofia := time.FixedZone("EET", 2*60*60)
	tests := []struct {
		name string
		src  any
		want Time
		err  bool
	}{
		{"null", nil, Time{}, false},
		{"timestamp in UTC", at.In(sofia), Time{T: at, Valid: true}, false},
		{"unix nanoseconds", at.UnixNano(), Time{T: at, Valid: true}, false},
		{"zero nanoseconds", int64(0), Time{T: time.Unix(0, 0).UTC(), Valid: true}, false},
		{"text", "infinity", Time{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Time{T: time.Now(), Valid: true} // Scan replaces what was there
			err := got.Scan(tc.src)
			if (err != nil) != tc.err {
				t.Fatalf("Scan(%v) error %v, want error %v", tc.src, err, tc.err)
			}
			if err == nil && (got.Valid != tc.want.Valid || !got.T.Equal(tc.want.T) || got.T.Location() != time.UTC) {
				t.Errorf("Scan(%v) = %+v, want %+v in UTC", tc.src, got, tc.want)
			}
		})
	}
}

func TestPlaceholders(t *testing.T) {
	if got := Dollar(12); got != "$12" {
		t.Errorf("Dollar(12) = %q, want $12", got)
	}
	if got := Question(12); got != "?" {
		t.Errorf("Question(12) = %q, want ?", got)
	}
}
