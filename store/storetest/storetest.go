// Package storetest is the conformance suite that every store.Store implementation must pass.
// An implementation runs it from its own tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return open(t, t.TempDir()) })
//	}
//
// Each subtest gets a new, empty store from newStore and closes it when done, so newStore must
// not close it itself (Close may then be called on a store that a test already closed; that error
// is ignored). Times given to the store are whole milliseconds, so that stores keeping
// microseconds (PostgreSQL) pass as well as stores keeping nanoseconds.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/aiskao/aiskao/store"
)

// Run runs every conformance test against stores made by newStore.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Helper()
	open := func(t *testing.T) store.Store {
		t.Helper()
		s := newStore(t)
		if s == nil {
			t.Fatal("newStore returned nil")
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"AddDeadLetterFillsIDAndTime", testAddFillsIDAndTime},
		{"AddDeadLetterKeepsGivenIDAndTime", testAddKeepsGivenIDAndTime},
		{"AddDeadLetterDuplicateIDFails", testAddDuplicateID},
		{"GetDeadLetterIsByteExact", testGetByteExact},
		{"GetDeadLetterUnknownIsNotFound", testGetUnknown},
		{"ListDeadLettersNewestFirstWithoutPayload", testListNewestFirst},
		{"ListDeadLettersNewestFirstWhenTimesFilled", testListFilledTimesOrder},
		{"ListDeadLettersSameTimeLastAddedFirst", testListSameTimeOrder},
		{"ListDeadLettersByRoute", testListByRoute},
		{"ListDeadLettersLimit", testListLimit},
		{"ListDeadLettersEmpty", testListEmpty},
		{"DeleteDeadLetter", testDelete},
		{"DeleteDeadLetterUnknownIsNotFound", testDeleteUnknown},
		{"CountDeadLettersPerRoute", testCount},
		{"SeenUnmarkedKey", testSeenUnmarked},
		{"MarkThenSeen", testMarkThenSeen},
		{"MarkScopesAreIndependent", testScopesIndependent},
		{"SeenManyAtOnce", testSeenManyAtOnce},
		{"MarkWithPastTTLIsNotSeen", testMarkPastTTL},
		{"MarkExpires", testMarkExpires},
		{"MarkIsIdempotent", testMarkIdempotent},
		{"MarkAgainRevivesExpiredKey", testMarkRevives},
		{"MarkKeysAreBytes", testKeysAreBytes},
		{"MarkExtremeTTL", testMarkExtremeTTL},
		{"StateUnknownIsNotFound", testStateUnknown},
		{"StatePutGetOverwrite", testStatePutGet},
		{"StateRoutesAreIndependent", testStateRoutes},
		{"StateEmptyValue", testStateEmptyValue},
		{"JournalRoundTrip", testJournalRoundTrip},
		{"JournalKeepsGivenIDAndTime", testJournalKeepsGivenIDAndTime},
		{"JournalNewestFirstAndFilters", testJournalNewestFirstAndFilters},
		{"ConcurrentMarksAndDeadLetters", testConcurrent},
		{"ConcurrentMarksOfOneKey", testConcurrentSameKey},
		{"Ping", testPing},
		{"CloseThenUseFails", testClose},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, open(t))
		})
	}
}

// ctx returns a context that ends with the test, bounded so that a hanging store fails the test
// instead of the whole run.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// notUTF8 is not valid UTF-8: a store that goes through a text encoding would change it.
var notUTF8 = []byte{0xff, 0xfe, 0x00, 0xc3, 0x28, 'x', 0x80}

func sample(route string) store.DeadLetter {
	return store.DeadLetter{
		MessageID: "msg-1",
		Route:     route,
		Step:      "steps[2].json_schema",
		Error:     "заявлението не отговаря на схемата: липсва поле ЕГН",
		Attempts:  5,
		Metadata: map[string]string{
			"type":                       "esoed.DocumentRegistrationRequest",
			"subject":                    "ОбА-94-00-123/2024",
			"raw":                        string(notUTF8),
			string(notUTF8[:2]) + "ключ": "стойност",
			"empty":                      "",
		},
		Payload: append([]byte(`<Документ номер="1">Заявление</Документ>`), notUTF8...),
	}
}

func mustAdd(t *testing.T, s store.Store, d store.DeadLetter) string {
	t.Helper()
	id, err := s.AddDeadLetter(ctx(t), d)
	return mustID(t, "AddDeadLetter", id, err)
}

// mustID returns the id that call, which adds something, returned, and fails the test when the
// call failed or returned no id.
func mustID(t *testing.T, call, id string, err error) string {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", call, err)
	}
	if id == "" {
		t.Fatalf("%s returned an empty id", call)
	}
	return id
}

// at returns a fixed time a number of minutes after a base, in whole milliseconds.
func at(minutes int) time.Time {
	return time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC).Add(time.Duration(minutes) * time.Minute).Add(123 * time.Millisecond)
}

// sameLetter reports how got differs from want, ignoring the payload when withPayload is false.
func sameLetter(t *testing.T, got, want store.DeadLetter, withPayload bool) {
	t.Helper()
	if got.ID != want.ID || got.MessageID != want.MessageID || got.Route != want.Route || got.Step != want.Step ||
		got.Error != want.Error || got.Attempts != want.Attempts {
		t.Errorf("dead letter fields differ:\n got %+v\nwant %+v", strip(got), strip(want))
	}
	if !got.Time.Equal(want.Time) {
		t.Errorf("dead letter %s: time %v, want %v", want.ID, got.Time, want.Time)
	}
	if !maps.Equal(got.Metadata, want.Metadata) {
		t.Errorf("dead letter %s: metadata %q, want %q", want.ID, got.Metadata, want.Metadata)
	}
	if withPayload {
		if !bytes.Equal(got.Payload, want.Payload) {
			t.Errorf("dead letter %s: payload %q, want %q", want.ID, got.Payload, want.Payload)
		}
	} else if got.Payload != nil {
		t.Errorf("dead letter %s: listing has a payload of %d bytes, want none", want.ID, len(got.Payload))
	}
}

func strip(d store.DeadLetter) store.DeadLetter {
	d.Metadata, d.Payload = nil, nil
	return d
}

func testAddFillsIDAndTime(t *testing.T, s store.Store) {
	before := time.Now()
	d := sample("incoming")
	id1 := mustAdd(t, s, d)
	id2 := mustAdd(t, s, d)
	after := time.Now()
	if id1 == id2 {
		t.Fatalf("two dead letters got the same id %q", id1)
	}
	got, err := s.GetDeadLetter(ctx(t), id1)
	if err != nil {
		t.Fatalf("GetDeadLetter(%q): %v", id1, err)
	}
	if got.ID != id1 {
		t.Errorf("GetDeadLetter(%q).ID = %q", id1, got.ID)
	}
	// A second of slack for stores whose clock is the database server's.
	if got.Time.IsZero() || got.Time.Before(before.Add(-time.Second)) || got.Time.After(after.Add(time.Second)) {
		t.Errorf("filled time %v is not between %v and %v", got.Time, before, after)
	}
}

func testAddKeepsGivenIDAndTime(t *testing.T, s store.Store) {
	d := sample("incoming")
	d.ID = "dl-given-1"
	d.Time = at(0)
	if id := mustAdd(t, s, d); id != d.ID {
		t.Fatalf("AddDeadLetter returned id %q, want the given %q", id, d.ID)
	}
	got, err := s.GetDeadLetter(ctx(t), d.ID)
	if err != nil {
		t.Fatalf("GetDeadLetter: %v", err)
	}
	sameLetter(t, got, d, true)
}

func testAddDuplicateID(t *testing.T, s store.Store) {
	d := sample("incoming")
	d.ID = "dl-dup"
	mustAdd(t, s, d)
	if _, err := s.AddDeadLetter(ctx(t), d); err == nil {
		t.Fatal("second AddDeadLetter with the same id succeeded, want an error")
	}
}

func testGetByteExact(t *testing.T, s store.Store) {
	d := sample("входящи-документи")
	d.Error = "грешка в стъпка 3: „поле“ ЕГН\tлипсва\n"
	d.Time = at(1)
	d.ID = mustAdd(t, s, d)
	got, err := s.GetDeadLetter(ctx(t), d.ID)
	if err != nil {
		t.Fatalf("GetDeadLetter: %v", err)
	}
	sameLetter(t, got, d, true)
}

func testGetUnknown(t *testing.T, s store.Store) {
	_, err := s.GetDeadLetter(ctx(t), "no-such-id")
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetDeadLetter(unknown) error = %v, want store.ErrNotFound", err)
	}
}

func testListNewestFirst(t *testing.T, s store.Store) {
	// Added out of time order: the listing follows the times, not the order of adding.
	byMinute := map[int]store.DeadLetter{}
	for _, m := range []int{2, 0, 3, 1} {
		d := sample("incoming")
		d.MessageID = fmt.Sprintf("msg-%d", m)
		d.Time = at(m)
		d.ID = mustAdd(t, s, d)
		byMinute[m] = d
	}
	got, err := s.ListDeadLetters(ctx(t), store.Filter{})
	if err != nil {
		t.Fatalf("ListDeadLetters: %v", err)
	}
	if len(got) != 4 {
		t.Fatalf("ListDeadLetters returned %d dead letters, want 4", len(got))
	}
	for i, m := range []int{3, 2, 1, 0} {
		sameLetter(t, got[i], byMinute[m], false)
	}
}

func testListFilledTimesOrder(t *testing.T, s store.Store) {
	listsReverse(t, s, time.Time{})
}

// testListSameTimeOrder: dead letters of one time (a batch failing at once) still list in a
// stable order, the last added first, so that a listing does not shuffle between pages.
func testListSameTimeOrder(t *testing.T, s store.Store) {
	listsReverse(t, s, at(0))
}

// listsReverse adds five dead letters with time tm (filled by the store when zero) and checks
// that they list in the reverse order of adding.
func listsReverse(t *testing.T, s store.Store, tm time.Time) {
	t.Helper()
	var ids []string
	for i := range 5 {
		d := sample("incoming")
		d.MessageID = fmt.Sprintf("msg-%d", i)
		d.Time = tm
		ids = append(ids, mustAdd(t, s, d))
	}
	got, err := s.ListDeadLetters(ctx(t), store.Filter{})
	if err != nil {
		t.Fatalf("ListDeadLetters: %v", err)
	}
	var gotIDs []string
	for _, d := range got {
		gotIDs = append(gotIDs, d.ID)
	}
	want := []string{ids[4], ids[3], ids[2], ids[1], ids[0]}
	if fmt.Sprint(gotIDs) != fmt.Sprint(want) {
		t.Fatalf("listing order %v, want the reverse of adding %v", gotIDs, want)
	}
}

func testListByRoute(t *testing.T, s store.Store) {
	for i, route := range []string{"a", "b", "a", "c", "a"} {
		d := sample(route)
		d.Time = at(i)
		mustAdd(t, s, d)
	}
	got, err := s.ListDeadLetters(ctx(t), store.Filter{Route: "a"})
	if err != nil {
		t.Fatalf("ListDeadLetters(route a): %v", err)
	}
	if len(got) != 3 {
		t.Fatalf("ListDeadLetters(route a) returned %d, want 3", len(got))
	}
	for i, d := range got {
		if d.Route != "a" {
			t.Errorf("ListDeadLetters(route a)[%d] has route %q", i, d.Route)
		}
	}
	if !got[0].Time.Equal(at(4)) || !got[2].Time.Equal(at(0)) {
		t.Errorf("ListDeadLetters(route a) not newest first: %v, %v, %v", got[0].Time, got[1].Time, got[2].Time)
	}
	none, err := s.ListDeadLetters(ctx(t), store.Filter{Route: "no-such-route"})
	if err != nil || len(none) != 0 {
		t.Errorf("ListDeadLetters(unknown route) = %d dead letters, %v; want none", len(none), err)
	}
}

func testListLimit(t *testing.T, s store.Store) {
	const n = 105
	for i := range n {
		d := sample("bulk")
		d.Payload = nil
		d.Time = at(i)
		mustAdd(t, s, d)
	}
	for _, tc := range []struct {
		limit, want int
	}{{0, 100}, {2, 2}, {n + 10, n}} {
		got, err := s.ListDeadLetters(ctx(t), store.Filter{Limit: tc.limit})
		if err != nil {
			t.Fatalf("ListDeadLetters(limit %d): %v", tc.limit, err)
		}
		if len(got) != tc.want {
			t.Errorf("ListDeadLetters(limit %d) returned %d, want %d", tc.limit, len(got), tc.want)
			continue
		}
		if !got[0].Time.Equal(at(n - 1)) {
			t.Errorf("ListDeadLetters(limit %d) starts at %v, want the newest %v", tc.limit, got[0].Time, at(n-1))
		}
	}
}

func testListEmpty(t *testing.T, s store.Store) {
	got, err := s.ListDeadLetters(ctx(t), store.Filter{})
	if err != nil || len(got) != 0 {
		t.Fatalf("ListDeadLetters on an empty store = %d, %v; want none", len(got), err)
	}
}

func testDelete(t *testing.T, s store.Store) {
	keep := mustAdd(t, s, sample("a"))
	gone := mustAdd(t, s, sample("a"))
	if err := s.DeleteDeadLetter(ctx(t), gone); err != nil {
		t.Fatalf("DeleteDeadLetter: %v", err)
	}
	if _, err := s.GetDeadLetter(ctx(t), gone); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetDeadLetter after delete: error %v, want store.ErrNotFound", err)
	}
	if _, err := s.GetDeadLetter(ctx(t), keep); err != nil {
		t.Errorf("the other dead letter is gone too: %v", err)
	}
	if err := s.DeleteDeadLetter(ctx(t), gone); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second DeleteDeadLetter: error %v, want store.ErrNotFound", err)
	}
}

func testDeleteUnknown(t *testing.T, s store.Store) {
	if err := s.DeleteDeadLetter(ctx(t), "no-such-id"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("DeleteDeadLetter(unknown) error = %v, want store.ErrNotFound", err)
	}
}

func testCount(t *testing.T, s store.Store) {
	got, err := s.CountDeadLetters(ctx(t))
	if err != nil || len(got) != 0 {
		t.Fatalf("CountDeadLetters on an empty store = %v, %v; want an empty map", got, err)
	}
	var drop string
	for _, r := range []string{"a", "b", "a", "входящи", "a", "b"} {
		drop = mustAdd(t, s, sample(r))
	}
	if err := s.DeleteDeadLetter(ctx(t), drop); err != nil { // the last "b"
		t.Fatalf("DeleteDeadLetter: %v", err)
	}
	got, err = s.CountDeadLetters(ctx(t))
	if err != nil {
		t.Fatalf("CountDeadLetters: %v", err)
	}
	want := map[string]int{"a": 3, "b": 1, "входящи": 1}
	if !maps.Equal(got, want) {
		t.Fatalf("CountDeadLetters = %v, want %v", got, want)
	}
}

func seen(t *testing.T, s store.Store, scope, key string) bool {
	t.Helper()
	ok, err := s.Seen(ctx(t), scope, key)
	if err != nil {
		t.Fatalf("Seen(%q, %q): %v", scope, key, err)
	}
	return ok
}

func mark(t *testing.T, s store.Store, scope, key string, ttl time.Duration) {
	t.Helper()
	if err := s.Mark(ctx(t), scope, key, ttl); err != nil {
		t.Fatalf("Mark(%q, %q, %v): %v", scope, key, ttl, err)
	}
}

func testSeenUnmarked(t *testing.T, s store.Store) {
	if seen(t, s, "route:a", "msg-1") {
		t.Fatal("Seen is true for a key never marked")
	}
}

func testMarkThenSeen(t *testing.T, s store.Store) {
	keys := []string{"msg-1", "0192f0b6-7c1e-7cc1-8a8e-3f1d0c9b8a71", "ключ-на-съобщение", ""}
	for _, k := range keys {
		mark(t, s, "route:a", k, time.Hour)
	}
	for _, k := range keys {
		if !seen(t, s, "route:a", k) {
			t.Errorf("Seen(route:a, %q) is false after Mark", k)
		}
	}
	if seen(t, s, "route:a", "msg-2") {
		t.Error("Seen is true for another key")
	}
}

// testSeenManyAtOnce asks about marked and unmarked keys in two scopes at the same time, as a
// route's messages do, with keys that need care in any encoding a store may batch them in.
func testSeenManyAtOnce(t *testing.T, s store.Store) {
	odd := []string{`"quoted"`, `back\slash`, "tab\tand\nnewline", "nul\x00inside", "\xff\xfenot UTF-8", "ключ", "", "[1,2]", "a'b"}
	var keys []string
	for i := range 60 {
		keys = append(keys, fmt.Sprintf("msg-%d", i))
	}
	keys = append(keys, odd...)
	scopes := []string{"route:a", "route:b"}
	marked := func(scope string, i int) bool { return (i%3 == 0) == (scope == "route:a") }
	for _, scope := range scopes {
		for i, k := range keys {
			if marked(scope, i) {
				mark(t, s, scope, k, time.Hour)
			}
		}
	}
	var wg sync.WaitGroup
	for round := range 3 {
		for _, scope := range scopes {
			for i, k := range keys {
				wg.Go(func() {
					got, err := s.Seen(ctx(t), scope, k)
					if err != nil {
						t.Errorf("Seen(%q, %q): %v", scope, k, err)
						return
					}
					if want := marked(scope, i); got != want {
						t.Errorf("round %d: Seen(%q, %q) = %v, want %v", round, scope, k, got, want)
					}
				})
			}
		}
	}
	wg.Wait()
}

func testScopesIndependent(t *testing.T, s store.Store) {
	mark(t, s, "route:a", "msg-1", time.Hour)
	if seen(t, s, "route:b", "msg-1") {
		t.Error("a key marked in scope route:a is seen in scope route:b")
	}
	// Scope and key must not be joined into one string that could collide.
	mark(t, s, "x:", "y", time.Hour)
	if seen(t, s, "x", ":y") || seen(t, s, "x:y", "") {
		t.Error("scope and key collide when joined")
	}
}

func testMarkPastTTL(t *testing.T, s store.Store) {
	mark(t, s, "route:a", "old", -time.Minute)
	if seen(t, s, "route:a", "old") {
		t.Fatal("a key marked with a ttl in the past is seen")
	}
}

func testMarkExpires(t *testing.T, s store.Store) {
	const ttl = 300 * time.Millisecond
	start := time.Now()
	mark(t, s, "route:a", "short", ttl)
	if !seen(t, s, "route:a", "short") && time.Since(start) < ttl {
		t.Fatal("a key is not seen before its ttl has passed")
	}
	deadline := time.Now().Add(10 * time.Second)
	for seen(t, s, "route:a", "short") {
		if time.Now().After(deadline) {
			t.Fatalf("a key marked with ttl %v is still seen after %v", ttl, time.Since(start))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if el := time.Since(start); el < ttl {
		t.Fatalf("key expired after %v, before its ttl %v", el, ttl)
	}
}

func testMarkIdempotent(t *testing.T, s store.Store) {
	for range 3 {
		mark(t, s, "route:a", "msg-1", time.Hour)
	}
	if !seen(t, s, "route:a", "msg-1") {
		t.Fatal("key marked three times is not seen")
	}
}

func testMarkRevives(t *testing.T, s store.Store) {
	mark(t, s, "route:a", "msg-1", -time.Minute)
	mark(t, s, "route:a", "msg-1", time.Hour)
	if !seen(t, s, "route:a", "msg-1") {
		t.Fatal("an expired key marked again with a long ttl is not seen")
	}
}

// testKeysAreBytes: scopes and keys need not be UTF-8 and may hold NUL bytes, and different
// bytes are different keys.
func testKeysAreBytes(t *testing.T, s store.Store) {
	mark(t, s, "route:\xff", "\xff\x00ключ", time.Hour)
	for _, tc := range []struct {
		scope, key string
		want       bool
	}{
		{"route:\xff", "\xff\x00ключ", true},
		{"route:\xff", "\xfe\x00ключ", false},
		{"route:\uFFFD", "\uFFFD\uFFFDключ", false},
		{"route:\xff", "\xff", false},
	} {
		if got := seen(t, s, tc.scope, tc.key); got != tc.want {
			t.Errorf("Seen(%q, %q) = %v, want %v", tc.scope, tc.key, got, tc.want)
		}
	}
}

// testMarkExtremeTTL: the longest and the most negative durations neither overflow nor fail.
func testMarkExtremeTTL(t *testing.T, s store.Store) {
	for _, tc := range []struct {
		key  string
		ttl  time.Duration
		want bool
	}{{"longest", math.MaxInt64, true}, {"most-negative", math.MinInt64, false}} {
		mark(t, s, "s", tc.key, tc.ttl)
		if got := seen(t, s, "s", tc.key); got != tc.want {
			t.Errorf("Seen after Mark with ttl %v = %v, want %v", tc.ttl, got, tc.want)
		}
	}
}

func testStateUnknown(t *testing.T, s store.Store) {
	_, err := s.GetState(ctx(t), "route-a", "cursor")
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetState(unknown) error = %v, want store.ErrNotFound", err)
	}
}

func getState(t *testing.T, s store.Store, route, key string) []byte {
	t.Helper()
	v, err := s.GetState(ctx(t), route, key)
	if err != nil {
		t.Fatalf("GetState(%q, %q): %v", route, key, err)
	}
	return v
}

func putState(t *testing.T, s store.Store, route, key string, v []byte) {
	t.Helper()
	if err := s.PutState(ctx(t), route, key, v); err != nil {
		t.Fatalf("PutState(%q, %q): %v", route, key, err)
	}
}

func testStatePutGet(t *testing.T, s store.Store) {
	first := append([]byte("последен-номер=41;"), notUTF8...)
	putState(t, s, "route-a", "cursor", first)
	if got := getState(t, s, "route-a", "cursor"); !bytes.Equal(got, first) {
		t.Fatalf("GetState = %q, want %q", got, first)
	}
	second := []byte("последен-номер=42")
	putState(t, s, "route-a", "cursor", second)
	if got := getState(t, s, "route-a", "cursor"); !bytes.Equal(got, second) {
		t.Fatalf("GetState after overwrite = %q, want %q", got, second)
	}
	if _, err := s.GetState(ctx(t), "route-a", "other"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetState(other key) error = %v, want store.ErrNotFound", err)
	}
}

func testStateRoutes(t *testing.T, s store.Store) {
	putState(t, s, "route-a", "cursor", []byte("a"))
	putState(t, s, "route-b", "cursor", []byte("b"))
	if got := getState(t, s, "route-a", "cursor"); string(got) != "a" {
		t.Errorf("route-a cursor = %q, want a", got)
	}
	if got := getState(t, s, "route-b", "cursor"); string(got) != "b" {
		t.Errorf("route-b cursor = %q, want b", got)
	}
}

func testStateEmptyValue(t *testing.T, s store.Store) {
	putState(t, s, "route-a", "empty", nil)
	if got := getState(t, s, "route-a", "empty"); len(got) != 0 {
		t.Fatalf("GetState of an empty value = %q, want empty", got)
	}
}

func testConcurrent(t *testing.T, s store.Store) {
	const (
		markers, marksEach = 32, 25
		adders, addsEach   = 8, 5
	)
	var wg sync.WaitGroup
	errs := make(chan error, markers*marksEach+adders*addsEach)
	for g := range markers {
		wg.Go(func() {
			for i := range marksEach {
				if err := s.Mark(context.Background(), fmt.Sprintf("route:%d", g%4), fmt.Sprintf("msg-%d-%d", g, i), time.Hour); err != nil {
					errs <- fmt.Errorf("Mark from goroutine %d: %w", g, err)
				}
			}
		})
	}
	for g := range adders {
		wg.Go(func() {
			for range addsEach {
				if _, err := s.AddDeadLetter(context.Background(), sample(fmt.Sprintf("route-%d", g%2))); err != nil {
					errs <- fmt.Errorf("AddDeadLetter from goroutine %d: %w", g, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	missing := 0
	for g := range markers {
		for i := range marksEach {
			if !seen(t, s, fmt.Sprintf("route:%d", g%4), fmt.Sprintf("msg-%d-%d", g, i)) {
				missing++
			}
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d concurrent marks are not seen", missing, markers*marksEach)
	}
	counts, err := s.CountDeadLetters(ctx(t))
	if err != nil {
		t.Fatalf("CountDeadLetters: %v", err)
	}
	want := map[string]int{"route-0": adders / 2 * addsEach, "route-1": adders / 2 * addsEach}
	if !maps.Equal(counts, want) {
		t.Errorf("CountDeadLetters after concurrent adds = %v, want %v", counts, want)
	}
}

func testConcurrentSameKey(t *testing.T, s store.Store) {
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() { errs <- s.Mark(context.Background(), "route:a", "same", time.Hour) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Mark of one key: %v", err)
		}
	}
	if !seen(t, s, "route:a", "same") {
		t.Error("key marked concurrently is not seen")
	}
}

func testPing(t *testing.T, s store.Store) {
	if err := s.Ping(ctx(t)); err != nil {
		t.Fatalf("Ping on an open store: %v", err)
	}
}

func testClose(t *testing.T, s store.Store) {
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// After Close, calls fail instead of hanging or succeeding silently.
	c := ctx(t)
	if err := s.Mark(c, "route:a", "late", time.Hour); err == nil {
		t.Error("Mark after Close succeeded, want an error")
	}
	if _, err := s.AddDeadLetter(c, sample("a")); err == nil {
		t.Error("AddDeadLetter after Close succeeded, want an error")
	}
	if err := s.Ping(c); err == nil {
		t.Error("Ping after Close succeeded, want an error")
	}
}
