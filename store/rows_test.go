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

func TestReadChainRowsTellsItsErrorsFromTheCallers(t *testing.T) {
	stop, bad := errors.New("stop"), errors.New("connection lost")
	scan := func(r Row) (ChainRow, error) {
		var v int
		if err := r.Scan(&v); err != nil || v < 0 {
			return ChainRow{}, errors.New("damaged row")
		}
		return ChainRow{Seq: int64(v)}, nil
	}
	var seen []int64
	collect := func(r ChainRow) error {
		seen = append(seen, r.Seq)
		if r.Seq == 9 {
			return stop
		}
		return nil
	}
	for _, tc := range []struct {
		name string
		rows *fakeRows
		err  string
		seen int
	}{
		{"all rows", &fakeRows{vals: []int{1, 2, 3}}, "", 3},
		{"the caller stops", &fakeRows{vals: []int{1, 9, 3}}, "stop", 2},
		{"a damaged row", &fakeRows{vals: []int{1, -1}}, "read journal chain: damaged row", 1},
		{"the set fails", &fakeRows{vals: []int{1}, err: bad}, "read journal chain: connection lost", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seen = nil
			err := ReadChainRows(tc.rows, scan, collect)
			if (err == nil) != (tc.err == "") || (err != nil && err.Error() != tc.err) {
				t.Fatalf("err = %v, want %q", err, tc.err)
			}
			if tc.err == "stop" && err != stop {
				t.Fatalf("the caller's error came back as %v, want it as it is", err)
			}
			if len(seen) != tc.seen {
				t.Fatalf("handed %v, want %d rows", seen, tc.seen)
			}
		})
	}
}
