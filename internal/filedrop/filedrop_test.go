package filedrop

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/aiskao/aiskao/envelope"
)

func TestChecks(t *testing.T) {
	for _, c := range []struct {
		pattern, seps string
		ok            bool
	}{
		{"*.xml", "/", true},
		{"*", `/\`, true},
		{"[", "/", false},
		{"in/*.xml", "/", false},
		{`in\*.xml`, `/\`, false},
	} {
		if err := CheckPattern(c.pattern, c.seps); (err == nil) != c.ok {
			t.Errorf("CheckPattern(%q, %q) = %v; want ok %v", c.pattern, c.seps, err, c.ok)
		}
	}
	for ct, ok := range map[string]bool{"": true, "application/xml": true, "text/csv; charset=windows-1251": true, "xml": false, "a/b; =": false} {
		if err := CheckContentType(ct); (err == nil) != ok {
			t.Errorf("CheckContentType(%q) = %v; want ok %v", ct, err, ok)
		}
	}
}

func TestWanted(t *testing.T) {
	for name, want := range map[string]bool{"a.xml": true, "A.XML": false, "a.json": false, ".a.xml": false, "a.xml.tmp": false} {
		if got := Wanted("*.xml", name); got != want {
			t.Errorf("Wanted(*.xml, %q) = %v; want %v", name, got, want)
		}
	}
	if !Wanted("*", "note.json") || Wanted("*", ".hidden") || Wanted("*", "x.tmp") {
		t.Error("pattern * must take every name but hidden and temporary files")
	}
}

func TestMessage(t *testing.T) {
	tests := []struct{ option, file, want string }{
		{"", "a.XML", "application/xml"},
		{"", "a.json", "application/json"},
		{"", "a.csv", "application/octet-stream"},
		{"text/csv; charset=windows-1251", "a.xml", "text/csv; charset=windows-1251"},
	}
	for _, tt := range tests {
		m := Message("id-1", tt.file, []byte("data"), tt.option, "")
		if got := m.Metadata.Get(envelope.ContentType); got != tt.want {
			t.Errorf("content_type %q, file %s: %q; want %q", tt.option, tt.file, got, tt.want)
		}
		if m.UUID != "id-1" || string(m.Payload) != "data" || m.Metadata.Get(MetaFilename) != tt.file {
			t.Errorf("message %s %q %q; want id-1, data and the file's name", m.UUID, m.Payload, m.Metadata.Get(MetaFilename))
		}
		if _, set := m.Metadata[envelope.Type]; set {
			t.Errorf("type set to %q without a message type", m.Metadata.Get(envelope.Type))
		}
	}
	if got := Message("id", "a.xml", nil, "", "register.Export").Metadata.Get(envelope.Type); got != "register.Export" {
		t.Errorf("type = %q; want register.Export", got)
	}
}

func TestTracker(t *testing.T) {
	now := time.Now()
	a1, a2 := Stat{Size: 1, Mod: now}, Stat{Size: 2, Mod: now.Add(time.Second)}
	var tr Tracker
	steps := []struct {
		st    Stat
		stuck bool // mark it stuck when ready
		ready bool
	}{
		{a1, false, false}, // first seen
		{a2, false, false}, // grew
		{a2, true, true},   // unchanged: ready, then stuck
		{a2, false, false}, // stuck and unchanged
		{a1, false, false}, // changed: new again
		{a1, false, true},  // unchanged, no longer stuck
	}
	for i, s := range steps {
		if got := tr.Ready("a.xml", s.st); got != s.ready {
			t.Fatalf("poll %d: Ready = %v; want %v", i+1, got, s.ready)
		}
		if s.stuck {
			tr.Stuck("a.xml", s.st)
		}
		tr.Polled()
		if !tr.Seen("a.xml") {
			t.Fatalf("poll %d: a.xml not seen", i+1)
		}
	}
	tr.Polled() // a poll that did not see it
	if tr.Seen("a.xml") || tr.Ready("a.xml", a1) {
		t.Error("a file gone for a poll is still seen or ready")
	}
	tr.Polled()
	tr.Reset()
	if tr.Seen("a.xml") || tr.Ready("a.xml", a1) {
		t.Error("Reset kept the files")
	}
}

func TestFreeName(t *testing.T) {
	taken := map[string]bool{"a.xml": true, "a-1.xml": true, "b": true}
	isTaken := func(n string) (bool, error) { return taken[n], nil }
	for name, want := range map[string]string{"a.xml": "a-2.xml", "b": "b-1", "c.xml": "c.xml"} {
		if got, err := FreeName(name, isTaken); err != nil || got != want {
			t.Errorf("FreeName(%q) = %q, %v; want %q", name, got, err, want)
		}
	}
	asked := 0
	_, err := FreeName("full.xml", func(string) (bool, error) { asked++; return true, nil })
	if !errors.Is(err, ErrNoFreeName) || asked != 10000 {
		t.Errorf("all taken: %v after %d names; want ErrNoFreeName after 10000", err, asked)
	}
	boom := fmt.Errorf("connection lost")
	if _, err := FreeName("a.xml", func(string) (bool, error) { return false, boom }); !errors.Is(err, boom) {
		t.Errorf("failing check: %v; want its error", err)
	}
}

// TestID pins the name an id is made from: ids must not change between versions, or a file
// taken again after an upgrade would be processed twice.
func TestID(t *testing.T) {
	space := uuid.NewSHA1(uuid.NameSpaceURL, []byte("urn:test"))
	want := uuid.NewSHA1(space, []byte("in\x00x.xml\x0010\x001700000000")).String()
	if got := ID(space, "in", "x.xml", 10, 1700000000); got != want {
		t.Errorf("ID = %s; want %s", got, want)
	}
	if ID(space, "in", "x.xml", 10, 1700000001) == want || ID(space, "in2", "x.xml", 10, 1700000000) == want {
		t.Error("another time or connector gave the same id")
	}
}
