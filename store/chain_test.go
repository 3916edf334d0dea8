package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestHashesAreStable pins the encoding: a change to it would make every chain already written
// fail verification, so it must be a new version of the encoding, not an edit.
func TestHashesAreStable(t *testing.T) {
	e := JournalEntry{ID: "0190b0c4-0000-7000-8000-000000000001", Time: time.Unix(1700000000, 123456000).UTC(),
		Kind: "regix.call", Route: "r", MessageID: "m", Dossier: "ОбА-1", Actor: "служител", Subject: "ГРАО",
		LegalBasis: "чл. 13", Result: "ok", Detail: map[string]string{"b": "2", "a": "1"}}
	var c Chain
	l := c.Next(e)
	// Computed apart from this code, from the layout described in chain.go.
	const (
		goldenBody = "e344f9dfc10bde29f79f11bcedef1cf8ad1b5d4a16a124dbec57ab800badff23"
		goldenHash = "5e43cda209aef8791e86a5e68b54c1d3f23e56c4a127792b689aaf5bf4a65ccc"
	)
	if got := l.Body.String(); got != goldenBody {
		t.Errorf("body hash = %s, want %s", got, goldenBody)
	}
	if got := l.Hash.String(); got != goldenHash {
		t.Errorf("entry hash = %s, want %s", got, goldenHash)
	}
	if l.Seq != 1 || l.Prev != (Hash{}) || c.Seq != 1 || c.Hash != l.Hash {
		t.Errorf("Next = %+v, chain %+v; want seq 1 after zeros, and the head moved", l, c)
	}
}

// TestEncodingIsUnambiguous: moving bytes from one field to the next changes the hash.
func TestEncodingIsUnambiguous(t *testing.T) {
	a := JournalEntry{Route: "ab", MessageID: "c"}
	b := JournalEntry{Route: "a", MessageID: "bc"}
	if BodyHash(a) == BodyHash(b) {
		t.Error("route ab + message c hashes like route a + message bc")
	}
	d1 := JournalEntry{Detail: map[string]string{"k": "v"}}
	d2 := JournalEntry{Result: "\x01\x01k\x01v"}
	if BodyHash(d1) == BodyHash(d2) {
		t.Error("a detail hashes like a result holding its bytes")
	}
	body := BodyHash(a)
	at := time.Unix(0, 1)
	if EntryHash(1, Hash{}, "ab", at, "c", body) == EntryHash(1, Hash{}, "a", at, "bc", body) {
		t.Error("id ab + kind c hashes like id a + kind bc")
	}
	if EntryHash(1, Hash{}, "x", at, "k", body) == EntryHash(2, Hash{}, "x", at, "k", body) {
		t.Error("the sequence number is not in the hash")
	}
}

func TestPeriod(t *testing.T) {
	for _, tc := range []struct {
		in   Period
		want time.Duration
		err  string
	}{
		{"", 0, ""}, {"0", 0, ""}, {"36h", 36 * time.Hour, ""}, {"90d", 90 * Day, ""}, {"2w", 14 * Day, ""},
		{"10y", 10 * Year, ""}, {" 5y ", 5 * Year, ""},
		{"5", 0, "want a whole number with a unit"}, {"d", 0, "want a whole number"}, {"-1d", 0, "want a whole number"},
		{"1.5y", 0, "want a whole number"}, {"10 years", 0, "want a whole number"}, {"1m", 0, "want a whole number"},
		{"201y", 0, "longer than 200 years"}, {"99999999999999999999y", 0, "want a whole number"},
	} {
		got, err := tc.in.Duration()
		switch {
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("Period(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("Period(%q) = %v, %v; want an error with %q", tc.in, got, err, tc.err)
		}
	}
	for _, d := range []time.Duration{0, 36 * time.Hour, 90 * Day, 10 * Year} {
		if back, err := FormatPeriod(d).Duration(); err != nil || back != d {
			t.Errorf("FormatPeriod(%v) = %q, read back %v, %v", d, FormatPeriod(d), back, err)
		}
	}
}

func FuzzPeriod(f *testing.F) {
	for _, s := range []string{"", "0", "90d", "10y", "36h", "2w", "-1d", "1.5y", "99999999999999999999y", "y", "5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Period(s).Duration()
		if err == nil && (d < 0 || d > maxPeriod) {
			t.Fatalf("Period(%q) = %v, outside 0..200y", s, d)
		}
	})
}

func TestRetentionPolicy(t *testing.T) {
	r := Retention{Journal: JournalRetentionConfig{Default: "10y", Kinds: map[string]Period{"regix.call": "5y", "esoed.received": "0", "x": "bad"}},
		DeadLetters: "90d", Interval: 0}
	_, err := r.Policy()
	for _, want := range []string{"interval: must be at least 1s", `journal.kinds.x: retention period "bad"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Policy() = %v, want an error with %q", err, want)
		}
	}
	delete(r.Journal.Kinds, "x")
	r.Interval = 3600e9
	p, err := r.Policy()
	if err != nil {
		t.Fatal(err)
	}
	if p.Journal.For("regix.call") != 5*Year || p.Journal.For("esoed.received") != 0 || p.Journal.For("other") != 10*Year || p.DeadLetters != 90*Day {
		t.Errorf("Policy() = %+v", p)
	}
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	cutoffs, listed := p.Journal.Cutoffs(now)
	if len(cutoffs) != 2 || !cutoffs[0].Others || !cutoffs[0].Before.Equal(now.Add(-10*Year)) ||
		len(cutoffs[1].Kinds) != 1 || cutoffs[1].Kinds[0] != "regix.call" {
		t.Errorf("Cutoffs = %+v", cutoffs)
	}
	if strings.Join(listed, ",") != "esoed.received,journal.pruned,regix.call" {
		t.Errorf("listed kinds = %v: every listed kind and journal.pruned stay out of the default", listed)
	}
}

// rows is a ChainSource over rows in memory.
type rows struct {
	st   ChainState
	rows []ChainRow
}

func (r *rows) ReadChain(_ context.Context, start func(ChainState) error, row func(ChainRow) error) error {
	if err := start(r.st); err != nil {
		return err
	}
	for _, x := range r.rows {
		if err := row(x); err != nil {
			return err
		}
	}
	return nil
}
func (r *rows) Where() string { return "memory" }
func (r *rows) Close() error  { return nil }

func chainOf(n int) *rows {
	var c Chain
	r := &rows{}
	for i := range n {
		e := JournalEntry{ID: string(rune('a' + i)), Time: time.Unix(int64(i), 0).UTC(), Kind: "k", Result: "ok"}
		l := c.Next(e)
		r.rows = append(r.rows, ChainRow{Entry: e, Seq: l.Seq, Prev: l.Prev[:], Body: l.Body[:], Hash: l.Hash[:], DetailOK: true})
	}
	r.st.Head = c
	return r
}

func TestVerifyBreaks(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(r *rows)
		want   string
	}{
		{"whole", func(*rows) {}, ""},
		{"time changed", func(r *rows) { r.rows[1].Entry.Time = r.rows[1].Entry.Time.Add(time.Second) },
			"journal entry 2 (id b): content changed: its id, time, kind or hash differ"},
		{"detail damaged", func(r *rows) { r.rows[2].DetailOK = false }, "journal entry 3 (id c): content changed: its detail cannot be read"},
		{"hash cut short", func(r *rows) { r.rows[0].Hash = r.rows[0].Hash[:5] }, "journal entry 1 (id a): content changed: its stored hashes"},
		{"two missing", func(r *rows) { r.rows = append(r.rows[:1], r.rows[3:]...) },
			"journal entry 2: entry missing: entries 2 to 3 are missing; the next entry found is 4 (id d)"},
		{"repeated", func(r *rows) { r.rows = append(r.rows[:2], r.rows[1:]...) }, "journal entry 2 (id b): order broken: it is numbered 2 but comes after entry 2: a repeated number"},
		{"head ahead", func(r *rows) { r.st.Head.Seq = 6 }, "journal entry 5: entry missing: the chain's head is entry 6"},
		{"head behind", func(r *rows) { r.st.Head.Seq = 3 }, "journal entry 4: chain head does not match"},
		{"head hash", func(r *rows) { r.st.Head.Hash[0] ^= 1 }, "journal entry 4: chain head does not match"},
		{"unchained", func(r *rows) { r.st.Unchained, r.st.FirstUnchained = 1, "x" }, "journal entry id x: entry not in the chain"},
		{"anchor moved on over entries kept", func(r *rows) { r.st.Anchor = Chain{Seq: 2, Hash: Hash(r.rows[1].Hash)} },
			"journal entry 1 (id a): order broken: it is numbered 1 but comes after entry 2"},
		{"anchor without record", func(r *rows) {
			r.st.Anchor = Chain{Seq: 1, Hash: Hash(r.rows[0].Hash)}
			r.rows = r.rows[1:]
		}, "journal entry 1: anchor not recorded"},
		{"anchor record is another entry", func(r *rows) {
			r.st.Anchor, r.st.AnchorBy = Chain{Seq: 1, Hash: Hash(r.rows[0].Hash)}, 3
			r.rows = r.rows[1:]
		}, "journal entry 1: anchor not recorded: entry 3, which should record"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := chainOf(4)
			tc.change(r)
			_, err := Verify(context.Background(), r, nil)
			var b *Break
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Verify = %v", err)
			case tc.want != "" && (!errors.As(err, &b) || !strings.HasPrefix(err.Error(), tc.want)):
				t.Fatalf("Verify = %v\nwant %s", err, tc.want)
			}
		})
	}
}

func TestVerifyExpect(t *testing.T) {
	r := chainOf(4)
	third := Chain{Seq: 3, Hash: Hash(r.rows[2].Hash)}
	if _, err := VerifyWith(context.Background(), r, VerifyOptions{Expect: []Chain{third}}); err != nil {
		t.Fatalf("VerifyWith a recorded entry still there: %v", err)
	}
	wrong := third
	wrong.Hash[0] ^= 1
	if _, err := VerifyWith(context.Background(), r, VerifyOptions{Expect: []Chain{wrong}}); err == nil ||
		!strings.HasPrefix(err.Error(), "journal entry 3 (id c): content changed: its hash is not the one recorded") {
		t.Errorf("VerifyWith a rewritten chain = %v", err)
	}
	// The end is cut, and the head moved back with it: only the recorded head tells.
	r.rows = r.rows[:2]
	r.st.Head = Chain{Seq: 2, Hash: Hash(r.rows[1].Hash)}
	if _, err := Verify(context.Background(), r, nil); err != nil {
		t.Fatalf("Verify of a cleanly cut chain: %v", err)
	}
	if _, err := VerifyWith(context.Background(), r, VerifyOptions{Expect: []Chain{third}}); err == nil ||
		!strings.HasPrefix(err.Error(), "journal entry 3: entry missing: an entry recorded earlier is beyond the chain's end, 2") {
		t.Errorf("VerifyWith a cut chain = %v", err)
	}
}

// FuzzVerify changes one field of one entry of a whole chain, as someone editing the database
// would: verification must fail exactly when something changed, and never panic on what it reads.
func FuzzVerify(f *testing.F) {
	f.Add(uint8(0), uint8(0), []byte("ok, nothing found"))
	f.Add(uint8(1), uint8(1), []byte("b"))
	f.Add(uint8(2), uint8(2), []byte("xx"))
	f.Add(uint8(3), uint8(3), make([]byte, HashSize))
	f.Add(uint8(3), uint8(4), []byte{1})
	f.Add(uint8(0), uint8(5), []byte("later"))
	f.Fuzz(func(t *testing.T, which, field uint8, b []byte) {
		r := chainOf(4)
		row := &r.rows[int(which)%len(r.rows)]
		before := fmt.Sprintf("%+v", *row)
		switch field % 6 {
		case 0:
			row.Entry.Result = string(b)
		case 1:
			row.Entry.ID = string(b)
		case 2:
			row.Seq += int64(len(b) % 3)
		case 3:
			row.Hash = b
		case 4:
			row.Prev = b
		case 5:
			row.Entry.Time = row.Entry.Time.Add(time.Duration(len(b)))
		}
		changed := fmt.Sprintf("%+v", *row) != before
		_, err := Verify(context.Background(), r, nil)
		if changed != (err != nil) {
			t.Fatalf("changed %v, Verify = %v", changed, err)
		}
	})
}
