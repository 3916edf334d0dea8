package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/aiskao/aiskao/store"
)

func journalSample(kind, dossier string) store.JournalEntry {
	return store.JournalEntry{
		Kind:       kind,
		Route:      "application-intake",
		MessageID:  "msg-7",
		Dossier:    dossier,
		Actor:      "служител 1234",
		Subject:    "ГРАО НБД / PersonDataSearch",
		LegalBasis: "чл. 13, ал. 1 от Наредбата за административното обслужване",
		Result:     "ok",
		Detail:     map[string]string{"egn": "******1234", "raw": string(notUTF8)},
	}
}

func appendJournal(t *testing.T, s store.Store, e store.JournalEntry) string {
	t.Helper()
	id, err := s.AppendJournal(ctx(t), e)
	return mustID(t, "AppendJournal", id, err)
}

func listJournal(t *testing.T, s store.Store, f store.JournalFilter) []store.JournalEntry {
	t.Helper()
	got, err := s.ListJournal(ctx(t), f)
	if err != nil {
		t.Fatalf("ListJournal(%+v): %v", f, err)
	}
	return got
}

func testJournalRoundTrip(t *testing.T, s store.Store) {
	before := time.Now()
	e := journalSample("regix.call", "ОбА-94-00-123")
	id := appendJournal(t, s, e)
	got := listJournal(t, s, store.JournalFilter{})
	if len(got) != 1 {
		t.Fatalf("ListJournal gave %d entries, want 1", len(got))
	}
	g := got[0]
	if g.ID != id {
		t.Errorf("id = %q, want %q", g.ID, id)
	}
	if g.Time.Before(before.Add(-time.Second)) || g.Time.After(time.Now().Add(time.Second)) {
		t.Errorf("time = %v, want about now", g.Time)
	}
	if g.Seq != 1 || len(g.Hash) != 2*store.HashSize || g.Redacted {
		t.Errorf("first entry: seq %d, hash %q, redacted %v; want seq 1, a SHA-256 hash, not redacted", g.Seq, g.Hash, g.Redacted)
	}
	e.ID, e.Time, e.Seq, e.Hash = g.ID, g.Time, g.Seq, g.Hash
	if !reflect.DeepEqual(g, e) {
		t.Errorf("entry read back =\n%+v\nwant\n%+v", g, e)
	}
}

func testJournalKeepsGivenIDAndTime(t *testing.T, s store.Store) {
	at := time.Date(2026, 3, 1, 9, 30, 0, 123456000, time.UTC)
	e := journalSample("esoed.received", "")
	e.ID, e.Time = "given-id", at
	if id := appendJournal(t, s, e); id != "given-id" {
		t.Errorf("AppendJournal returned %q, want the given id", id)
	}
	got := listJournal(t, s, store.JournalFilter{})
	if len(got) != 1 || !got[0].Time.Equal(at) {
		t.Fatalf("ListJournal = %+v, want one entry at %v", got, at)
	}
}

func testJournalNewestFirstAndFilters(t *testing.T, s store.Store) {
	base := time.Now().Add(-time.Hour)
	var ids []string
	for i, c := range []struct{ kind, dossier string }{
		{"regix.call", "D-1"}, {"esoed.received", "D-1"}, {"regix.call", "D-2"}, {"regix.call", "D-1"},
	} {
		e := journalSample(c.kind, c.dossier)
		e.Time = base.Add(time.Duration(i) * time.Minute)
		ids = append(ids, appendJournal(t, s, e))
	}
	cases := []struct {
		name string
		f    store.JournalFilter
		want []string
	}{
		{"all", store.JournalFilter{}, []string{ids[3], ids[2], ids[1], ids[0]}},
		{"kind", store.JournalFilter{Kind: "regix.call"}, []string{ids[3], ids[2], ids[0]}},
		{"dossier", store.JournalFilter{Dossier: "D-1"}, []string{ids[3], ids[1], ids[0]}},
		{"kind and dossier", store.JournalFilter{Kind: "regix.call", Dossier: "D-1"}, []string{ids[3], ids[0]}},
		{"limit", store.JournalFilter{Limit: 2}, []string{ids[3], ids[2]}},
		{"route", store.JournalFilter{Route: "other"}, nil},
	}
	for _, tc := range cases {
		var got []string
		for _, e := range listJournal(t, s, tc.f) {
			got = append(got, e.ID)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: ids = %v, want %v", tc.name, got, tc.want)
		}
	}
}
