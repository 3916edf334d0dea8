package store

import (
	"errors"
	"testing"
)

// fakeRows yields its values in turn, then err.
type fakeRows struct {
	vals []int
	i    int
	err  error
}

func (f *fakeRows) Next() bool { f.i++; return f.i <= len(f.vals) }
func (f *fakeRows) Err() error { return f.err }
func (f *fakeRows) Scan(dest ...any) error {
	*dest[0].(*int) = f.vals[f.i-1]
	return nil
}

func scanInt(r Row) (int, error) {
	var v int
	err := r.Scan(&v)
	if v < 0 {
		return 0, errors.New("negative")
	}
	return v, err
}

func TestScanRows(t *testing.T) {
	bad := errors.New("connection lost")
	for _, tc := range []struct {
		name string
		rows *fakeRows
		want []int
		err  string
	}{
		{"all in order", &fakeRows{vals: []int{3, 1, 2}}, []int{3, 1, 2}, ""},
		{"none", &fakeRows{}, nil, ""},
		{"a row scan fails", &fakeRows{vals: []int{1, -1, 2}}, nil, "negative"},
		{"the set fails", &fakeRows{vals: []int{1}, err: bad}, nil, bad.Error()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ScanRows(tc.rows, scanInt)
			if (err == nil) != (tc.err == "") || (err != nil && err.Error() != tc.err) {
				t.Fatalf("err = %v, want %q", err, tc.err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}
