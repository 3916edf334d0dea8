package store

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"sort"
	"time"
)

// The journal is a hash chain. Each entry has a sequence number, one more than the entry before
// it, and a hash over its sequence number, the previous entry's hash, its id, time and kind and
// the hash of its body (the other fields). Changing, removing, inserting or reordering an entry
// breaks the chain at that entry; redacting an entry's body (pruning personal data) keeps its
// body hash, so the chain still verifies. The chain starts at an anchor: sequence 0 and a hash
// of zeros, or the last entry dropped by pruning.
//
// Every field goes into the hashes with its length, so no two entries encode alike.

// HashSize is the size of the journal's hashes (SHA-256).
const HashSize = sha256.Size

// Hash is the hash of a journal entry or of its body.
type Hash [HashSize]byte

// String returns the hash in lower-case hex.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// ParseHash reads a hash written by String.
func ParseHash(s string) (Hash, error) {
	var h Hash
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != HashSize {
		return h, fmt.Errorf("journal hash %q: want %d hex digits", s, 2*HashSize)
	}
	copy(h[:], b)
	return h, nil
}

// HashFrom copies b, which must be HashSize bytes, into a Hash; ok is false otherwise.
func HashFrom(b []byte) (h Hash, ok bool) {
	if len(b) != HashSize {
		return h, false
	}
	copy(h[:], b)
	return h, true
}

// The domain prefixes keep a body hash from ever being taken for an entry hash and leave room for a
// second version of the encoding.
const (
	bodyDomain  = "aiskao journal body v1\x00"
	EntryDomain = "aiskao journal entry v1\x00"
)

// appendField appends s with its length.
func appendField(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// BodyHash returns the hash of the fields of e that pruning may redact: route, message id,
// dossier, actor, subject, legal basis, result and detail. Stores hash what they store: text as
// they keep it, so the caller passes e as it will be read back.
func BodyHash(e JournalEntry) Hash {
	b := make([]byte, 0, 256)
	b = append(b, bodyDomain...)
	for _, s := range [...]string{e.Route, e.MessageID, e.Dossier, e.Actor, e.Subject, e.LegalBasis, e.Result} {
		b = appendField(b, s)
	}
	b = appendField(b, string(EncodeMetadata(e.Detail)))
	return sha256.Sum256(b)
}

// EntryHash returns the chain hash of the entry with sequence number seq, following the entry
// whose hash is prev, with the given id, time, kind and body hash. Time counts in nanoseconds
// since 1970 UTC, as the store keeps it. It is SHA-256 over EntryDomain, seq as 8 bytes big
// endian, prev, then EntryTail.
func EntryHash(seq int64, prev Hash, id string, at time.Time, kind string, body Hash) Hash {
	b := make([]byte, 0, len(EntryDomain)+8+2*HashSize+len(id)+len(kind)+24)
	b = append(b, EntryDomain...)
	b = binary.BigEndian.AppendUint64(b, uint64(seq))
	b = append(b, prev[:]...)
	return sha256.Sum256(appendTail(b, id, at, kind, body))
}

// EntryTail is what follows the sequence number and the previous hash in an entry's hash: its id,
// time and kind and its body hash. A store that links entries in SQL, under its chain's lock,
// hashes EntryDomain, the sequence number, the previous hash and this.
func EntryTail(id string, at time.Time, kind string, body Hash) []byte {
	return appendTail(make([]byte, 0, len(id)+len(kind)+16+HashSize), id, at, kind, body)
}

func appendTail(b []byte, id string, at time.Time, kind string, body Hash) []byte {
	b = appendField(b, id)
	b = binary.BigEndian.AppendUint64(b, uint64(at.UnixNano()))
	b = appendField(b, kind)
	return append(b, body[:]...)
}

// Link is the place of an entry in the chain.
type Link struct {
	Seq  int64
	Prev Hash // hash of the entry before it (or of the anchor)
	Body Hash
	Hash Hash
}

// Chain links entries one after another from a head. It is not safe for concurrent use: stores
// hold their chain lock while they use it.
type Chain struct {
	Seq  int64 // sequence number of the last entry (the head)
	Hash Hash  // hash of the last entry
}

// Next links e after the head and moves the head to it. e must be as the store keeps it (id and
// time filled, time at the store's precision).
func (c *Chain) Next(e JournalEntry) Link {
	l := Link{Seq: c.Seq + 1, Prev: c.Hash, Body: BodyHash(e)}
	l.Hash = EntryHash(l.Seq, l.Prev, e.ID, e.Time, e.Kind, l.Body)
	c.Seq, c.Hash = l.Seq, l.Hash
	return l
}

// ChainRow is one journal entry as a store keeps it, with its place in the chain, as verification
// reads it.
type ChainRow struct {
	Entry      JournalEntry
	Seq        int64
	Prev       []byte // as stored; a valid hash has HashSize bytes
	Body       []byte
	Hash       []byte
	Redacted   bool      // the body was removed by pruning
	DetailOK   bool      // the stored detail could be read; false means its bytes were damaged
	RedactedAt time.Time // when it was redacted, if Redacted
}

// ChainState is what a store keeps about its chain besides the entries.
type ChainState struct {
	Anchor         Chain  // where the chain starts: the last entry dropped by pruning, or zero
	AnchorBy       int64  // sequence number of the journal.pruned entry that recorded the anchor; 0 if none
	Head           Chain  // the last entry appended
	Unchained      int64  // entries without a sequence number
	FirstUnchained string // the id of the oldest of them
	SchemaNote     string // why the journal cannot be verified (an old schema), when not empty
}

// ChainSource reads a store's journal chain directly, without the hub. Verification uses it so
// that an auditor can check a copy of the database while the hub is stopped.
type ChainSource interface {
	// ReadChain calls start with the chain's state, then row with each entry that has a
	// sequence number, in sequence order, all from one consistent snapshot. It stops with the
	// first error they return.
	ReadChain(ctx context.Context, start func(ChainState) error, row func(ChainRow) error) error
	// Where names what is read, for messages (a file, a database and schema; never a password).
	Where() string
	// Close releases the source.
	Close() error
}

// Problem is what is wrong at a broken entry.
type Problem string

// The problems Verify finds.
const (
	ContentChanged Problem = "content changed"
	EntryMissing   Problem = "entry missing"
	OrderBroken    Problem = "order broken"
	NotChained     Problem = "entry not in the chain"
	HeadMismatch   Problem = "chain head does not match"
	AnchorBroken   Problem = "anchor not recorded"
	RedactedEarly  Problem = "redacted before its retention ended"
)

// Break is the first broken place of a chain.
type Break struct {
	Seq     int64  // sequence number of the broken (or missing) entry; 0 when it has none
	ID      string // id of the entry found there; empty when it is missing
	Problem Problem
	Detail  string
}

// Error names the entry and what is wrong with it.
func (b *Break) Error() string {
	var s string
	switch {
	case b.Seq > 0 && b.ID != "":
		s = fmt.Sprintf("journal entry %d (id %s): %s", b.Seq, b.ID, b.Problem)
	case b.Seq > 0:
		s = fmt.Sprintf("journal entry %d: %s", b.Seq, b.Problem)
	case b.ID != "":
		s = fmt.Sprintf("journal entry id %s: %s", b.ID, b.Problem)
	default:
		s = "journal: " + string(b.Problem)
	}
	if b.Detail != "" {
		s += ": " + b.Detail
	}
	return s
}

// Verified is the outcome of a verification that found the chain whole.
type Verified struct {
	Entries  int64 // entries checked
	Redacted int64 // of them, redacted by pruning
	Anchor   Chain // where the chain starts
	Head     Chain // the last entry
}

// Verify reads the chain from src and checks every entry: its body against its body hash (unless
// redacted), its link to the entry before, its chain hash, the sequence without gaps, the head
// the store records, the anchor's record, and that no entry is outside the chain. When policy is
// not nil, an entry redacted before policy's retention for its kind had passed is a break too.
// A broken chain is returned as a *Break naming the first broken entry.
func Verify(ctx context.Context, src ChainSource, policy *JournalRetention) (Verified, error) {
	return VerifyWith(ctx, src, VerifyOptions{Retention: policy})
}

// VerifyOptions adds checks to Verify.
type VerifyOptions struct {
	// Retention, when not nil, makes an entry redacted before its retention had passed a break.
	Retention *JournalRetention
	// Expect are entries recorded earlier (a head that verify printed), which must still be in
	// the chain with the same hash. A chain only proves itself whole; someone who can write the
	// database can cut its end, or rewrite it from some entry on, unnoticed unless a hash
	// recorded elsewhere is checked.
	Expect []Chain
}

// VerifyWith is Verify with more checks.
func VerifyWith(ctx context.Context, src ChainSource, opts VerifyOptions) (Verified, error) {
	policy := opts.Retention
	expect := map[int64]Hash{}
	for _, e := range opts.Expect {
		expect[e.Seq] = e.Hash
	}
	var (
		v      Verified
		cur    Chain
		brk    *Break
		anchor *Break // the check of the anchor's record, settled when its entry is read
		st     ChainState
	)
	// An entry redacted sooner than the configured retention allows may have been redacted by a
	// shorter retention in force then: it is judged at the end by the retention that the first
	// journal.pruned entry after its redaction records.
	var (
		early     []earlyRedaction
		prunings  []recordedPruning
		earlyFrom = func(b *Break) *Break { return firstEarly(early, prunings, b) }
	)
	err := src.ReadChain(ctx, func(s ChainState) error {
		st, cur = s, s.Anchor
		return nil
	}, func(r ChainRow) error {
		b := checkRow(cur, r, policy)
		if b != nil && b.Problem == RedactedEarly {
			early = append(early, earlyRedaction{brk: b, kind: r.Entry.Kind, time: r.Entry.Time, at: r.RedactedAt})
			b = nil
		}
		if b != nil {
			brk = earlyFrom(b)
			return brk
		}
		if j, ok := recordedRetention(r.Entry); ok && !r.Redacted {
			prunings = append(prunings, recordedPruning{time: r.Entry.Time, retention: j})
		}
		if h, ok := expect[r.Seq]; ok {
			if Hash(r.Hash) != h {
				brk = &Break{Seq: r.Seq, ID: r.Entry.ID, Problem: ContentChanged,
					Detail: "its hash is not the one recorded earlier: the chain was rewritten from here or before"}
				return brk
			}
			delete(expect, r.Seq)
		}
		if st.AnchorBy == r.Seq && st.Anchor.Seq > 0 {
			anchor = checkAnchorRecord(st.Anchor, r)
		}
		cur = Chain{Seq: r.Seq, Hash: Hash(r.Hash)}
		v.Entries++
		if r.Redacted {
			v.Redacted++
		}
		return nil
	})
	if brk != nil {
		return v, brk
	}
	if err != nil {
		return v, err
	}
	if b := earlyFrom(nil); b != nil {
		return v, b
	}
	if st.SchemaNote != "" {
		return v, fmt.Errorf("%s: %s", src.Where(), st.SchemaNote)
	}
	switch {
	case st.Head.Seq > cur.Seq:
		return v, &Break{Seq: cur.Seq + 1, Problem: EntryMissing,
			Detail: fmt.Sprintf("the chain's head is entry %d, but the entries end at %d", st.Head.Seq, cur.Seq)}
	case st.Head.Seq < cur.Seq:
		return v, &Break{Seq: st.Head.Seq + 1, Problem: HeadMismatch,
			Detail: fmt.Sprintf("the chain's head is entry %d, but entries go on to %d", st.Head.Seq, cur.Seq)}
	case st.Head.Hash != cur.Hash:
		return v, &Break{Seq: cur.Seq, Problem: HeadMismatch, Detail: "the head's hash is not the last entry's"}
	}
	if st.Anchor.Seq > 0 {
		switch {
		case st.AnchorBy <= st.Anchor.Seq || st.AnchorBy > cur.Seq:
			return v, &Break{Seq: st.Anchor.Seq, Problem: AnchorBroken,
				Detail: fmt.Sprintf("the chain starts after entry %d, but no journal.pruned entry in the chain records it", st.Anchor.Seq)}
		case anchor != nil:
			return v, anchor
		}
	}
	for seq, h := range expect {
		switch {
		case seq > cur.Seq:
			return v, &Break{Seq: seq, Problem: EntryMissing,
				Detail: fmt.Sprintf("an entry recorded earlier is beyond the chain's end, %d: entries were cut from the end", cur.Seq)}
		case seq == st.Anchor.Seq && h != st.Anchor.Hash:
			return v, &Break{Seq: seq, Problem: AnchorBroken, Detail: "the anchor's hash is not the one recorded earlier"}
		case seq < st.Anchor.Seq:
			return v, fmt.Errorf("journal entry %d, recorded earlier, was dropped by pruning (the chain starts after %d): check a later one", seq, st.Anchor.Seq)
		}
	}
	if st.Unchained > 0 {
		return v, &Break{ID: st.FirstUnchained, Problem: NotChained,
			Detail: fmt.Sprintf("it has no sequence number: %d entries were added outside the hub", st.Unchained)}
	}
	v.Anchor, v.Head = st.Anchor, cur
	return v, nil
}

// earlyRedaction is an entry redacted sooner than the configured retention allows.
type earlyRedaction struct {
	brk      *Break
	kind     string
	time, at time.Time // when it was journaled and when redacted
}

// recordedPruning is a journal.pruned entry that records the retention it applied.
type recordedPruning struct {
	time      time.Time
	retention JournalRetention
}

// firstEarly returns the first of the early redactions that the retention in force when it was
// redacted did not allow either, if it comes before b (or b is nil); else b. That retention is
// the one the first journal.pruned entry journaled at or after the redaction records; without
// one (a crash between the redaction and its record, or an older hub), the configured retention
// stands.
func firstEarly(early []earlyRedaction, prunings []recordedPruning, b *Break) *Break {
	for _, e := range early {
		if b != nil && e.brk.Seq > b.Seq {
			break
		}
		i := sort.Search(len(prunings), func(i int) bool { return !prunings[i].time.Before(e.at) })
		if i < len(prunings) {
			keep := prunings[i].retention.For(e.kind)
			if keep > 0 && !e.at.Before(e.time.Add(keep)) {
				continue // redacted as the retention of that day allowed
			}
		}
		return e.brk
	}
	return b
}

// checkRow checks one entry following cur.
func checkRow(cur Chain, r ChainRow, policy *JournalRetention) *Break {
	b := &Break{Seq: r.Seq, ID: r.Entry.ID}
	want := cur.Seq + 1
	switch {
	case r.Seq > want:
		b.Seq, b.ID, b.Problem = want, "", EntryMissing
		if r.Seq == want+1 {
			b.Detail = fmt.Sprintf("the next entry found is %d (id %s)", r.Seq, r.Entry.ID)
		} else {
			b.Detail = fmt.Sprintf("entries %d to %d are missing; the next entry found is %d (id %s)", want, r.Seq-1, r.Seq, r.Entry.ID)
		}
		return b
	case r.Seq < want:
		b.Problem, b.Detail = OrderBroken, fmt.Sprintf("it is numbered %d but comes after entry %d: a repeated number, or an entry before where the chain starts", r.Seq, cur.Seq)
		return b
	}
	body, okBody := HashFrom(r.Body)
	prev, okPrev := HashFrom(r.Prev)
	hash, okHash := HashFrom(r.Hash)
	if !okBody || !okPrev || !okHash {
		b.Problem, b.Detail = ContentChanged, "its stored hashes are not SHA-256 hashes"
		return b
	}
	if !r.Redacted {
		if !r.DetailOK {
			b.Problem, b.Detail = ContentChanged, "its detail cannot be read"
			return b
		}
		if BodyHash(r.Entry) != body {
			b.Problem, b.Detail = ContentChanged, "its route, dossier, actor, subject, legal basis, result or detail differ from what was journaled"
			return b
		}
	}
	if prev != cur.Hash {
		b.Problem, b.Detail = OrderBroken, fmt.Sprintf("it does not follow entry %d", cur.Seq)
		return b
	}
	if EntryHash(r.Seq, prev, r.Entry.ID, r.Entry.Time, r.Entry.Kind, body) != hash {
		b.Problem, b.Detail = ContentChanged, "its id, time, kind or hash differ from what was journaled"
		return b
	}
	if r.Redacted && policy != nil {
		keep := policy.For(r.Entry.Kind)
		if keep == 0 || r.RedactedAt.Before(r.Entry.Time.Add(keep)) {
			b.Problem = RedactedEarly
			b.Detail = fmt.Sprintf("kind %s, journaled %s, redacted %s, retention %s", r.Entry.Kind,
				r.Entry.Time.UTC().Format(time.RFC3339), r.RedactedAt.UTC().Format(time.RFC3339), FormatPeriod(keep))
			return b
		}
	}
	return nil
}

// checkAnchorRecord checks that the journal.pruned entry r records anchor.
func checkAnchorRecord(anchor Chain, r ChainRow) *Break {
	if r.Entry.Kind != KindPruned || r.Redacted ||
		r.Entry.Detail[DetailAnchorSeq] != fmt.Sprint(anchor.Seq) || r.Entry.Detail[DetailAnchorHash] != anchor.Hash.String() {
		return &Break{Seq: anchor.Seq, Problem: AnchorBroken,
			Detail: fmt.Sprintf("entry %d, which should record where the chain starts, does not", r.Seq)}
	}
	return nil
}
