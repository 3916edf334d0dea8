package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/aiskao/aiskao/spec"
)

// Period is a retention period written as a whole number with a unit: h (hours), d (days), w
// (weeks), y (years of 365 days), such as 90d or 10y. Empty or "0" means keep forever.
type Period string

// UnmarshalYAML accepts a period written as a string or as the number 0, and refuses one that
// Duration cannot read, so that the loader reports it at its line.
func (p *Period) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("want a retention period such as 90d or 10y, got a %s", map[yaml.Kind]string{
			yaml.MappingNode: "mapping", yaml.SequenceNode: "list"}[n.Kind])
	}
	if _, err := Period(n.Value).Duration(); err != nil {
		return err
	}
	*p = Period(n.Value)
	return nil
}

// Day and Year are the units of a Period longer than an hour.
const (
	Day  = 24 * time.Hour
	Year = 365 * Day
)

// maxPeriod keeps a period's end within the range of time.Time arithmetic.
const maxPeriod = 200 * Year

// Duration returns the period's length; 0 means keep forever.
func (p Period) Duration() (time.Duration, error) {
	s := strings.TrimSpace(string(p))
	if s == "" || s == "0" {
		return 0, nil
	}
	const want = "want a whole number with a unit h, d, w or y, such as 90d or 10y (0 keeps forever)"
	unit := map[byte]time.Duration{'h': time.Hour, 'd': Day, 'w': 7 * Day, 'y': Year}[s[len(s)-1]]
	n, err := strconv.ParseInt(s[:len(s)-1], 10, 64)
	if unit == 0 || err != nil || n < 0 {
		return 0, fmt.Errorf("retention period %q: %s", string(p), want)
	}
	if n > int64(maxPeriod/unit) {
		return 0, fmt.Errorf("retention period %q is longer than 200 years", string(p))
	}
	return time.Duration(n) * unit, nil
}

// FormatPeriod writes d in the largest unit that divides it.
func FormatPeriod(d time.Duration) Period {
	switch {
	case d == 0:
		return "0"
	case d%Year == 0:
		return Period(strconv.FormatInt(int64(d/Year), 10) + "y")
	case d%Day == 0:
		return Period(strconv.FormatInt(int64(d/Day), 10) + "d")
	case d%time.Hour == 0:
		return Period(strconv.FormatInt(int64(d/time.Hour), 10) + "h")
	}
	return Period(d.String())
}

// Retention says how long a store keeps journal entries and dead letters, and how often it
// prunes. Both stores take it as their retention option.
type Retention struct {
	Journal     JournalRetentionConfig `yaml:"journal" doc:"How long journal entries keep their content. Pruning keeps the chain verifiable: an entry past its retention loses its content (route, dossier, actor, subject, legal basis, result, detail) but keeps its sequence number, id, time, kind and hashes; with drop, the oldest such entries are deleted and the chain then starts from an anchor that a journal.pruned entry records."`
	DeadLetters Period                 `yaml:"dead_letters" doc:"How long dead letters are kept before they are deleted, as a whole number with a unit h, d, w or y (365 days). They hold whole messages, often with personal data. 0 keeps them forever." default:"90d" example:"30d"`
	Interval    spec.Duration          `yaml:"interval" doc:"How often the hub prunes the journal and dead letters past their retention. Each pruning that removes anything is journaled as kind journal.pruned with its counts." default:"1h" example:"15m"`
}

// JournalRetentionConfig is the journal's part of Retention.
type JournalRetentionConfig struct {
	Default Period            `yaml:"default" doc:"Retention of journal entries of kinds not listed in kinds, as a whole number with a unit h, d, w or y (365 days). Empty or 0 keeps them forever." example:"10y"`
	Kinds   map[string]Period `yaml:"kinds" doc:"Retention per kind of entry (regix.call, esoed.received, ...), overriding default; 0 keeps that kind forever." example:"{regix.call: 5y}"`
	Drop    bool              `yaml:"drop" doc:"Delete entries past their retention, rather than keep them without content, once every entry before them is past its retention too (journal.pruned entries do not hold a drop back: each drop journals a new one). Verification then starts from the last deleted entry (the anchor), which the newest journal.pruned entry records."`
}

// minPruneInterval keeps pruning from competing with the writers.
const minPruneInterval = time.Second

// Validate checks the periods.
func (r *Retention) Validate() error {
	_, err := r.Policy()
	return err
}

// Policy returns the retention as durations, or what is wrong with it, naming the field.
func (r Retention) Policy() (RetentionPolicy, error) {
	var (
		p    RetentionPolicy
		errs []error
		err  error
	)
	p.Interval = r.Interval.D()
	if p.Interval < minPruneInterval {
		errs = append(errs, spec.FieldErrorf("interval", "must be at least %v, got %v", minPruneInterval, p.Interval))
	}
	if p.DeadLetters, err = r.DeadLetters.Duration(); err != nil {
		errs = append(errs, spec.FieldErrorf("dead_letters", "%v", err))
	}
	if p.Journal.Default, err = r.Journal.Default.Duration(); err != nil {
		errs = append(errs, spec.FieldErrorf("journal.default", "%v", err))
	}
	p.Journal.Drop = r.Journal.Drop
	for kind, per := range r.Journal.Kinds {
		d, err := per.Duration()
		switch {
		case err != nil:
			errs = append(errs, spec.FieldErrorf("journal.kinds."+kind, "%v", err))
		case strings.TrimSpace(kind) == "":
			errs = append(errs, spec.FieldErrorf("journal.kinds", "a kind must not be empty"))
		default:
			if p.Journal.Kinds == nil {
				p.Journal.Kinds = map[string]time.Duration{}
			}
			p.Journal.Kinds[kind] = d
		}
	}
	return p, errors.Join(errs...)
}

// Retaining is a store configuration with a retention option.
type Retaining interface {
	RetentionOptions() Retention
}

// RetentionPolicy is Retention read into durations; 0 keeps forever.
type RetentionPolicy struct {
	Journal     JournalRetention
	DeadLetters time.Duration
	Interval    time.Duration
}

// Active reports whether the policy ever removes anything.
func (p RetentionPolicy) Active() bool { return p.DeadLetters > 0 || p.Journal.Active() }

// JournalRetention is the journal's retention: per kind, else Default; 0 keeps forever.
type JournalRetention struct {
	Default time.Duration
	Kinds   map[string]time.Duration
	Drop    bool
}

// For returns the retention of entries of kind.
func (j JournalRetention) For(kind string) time.Duration {
	if d, ok := j.Kinds[kind]; ok {
		return d
	}
	return j.Default
}

// Active reports whether any entry ever passes its retention.
func (j JournalRetention) Active() bool {
	if j.Default > 0 {
		return true
	}
	for _, d := range j.Kinds {
		if d > 0 {
			return true
		}
	}
	return false
}

// Cutoff is one retention class: entries of Kinds (or, when Others, of every kind not listed
// elsewhere) journaled before Before are past their retention.
type Cutoff struct {
	Kinds  []string
	Others bool
	Before time.Time
}

// Cutoffs returns the retention classes at now, leaving out those kept forever, and every
// explicitly listed kind (so that a store can write "kind NOT IN (...)" for the others). Entries
// of kind journal.pruned are never redacted: they carry no personal data, and the latest one
// records where a pruned chain starts.
func (j JournalRetention) Cutoffs(now time.Time) (cutoffs []Cutoff, listed []string) {
	listed = append(listed, KindPruned)
	for k := range j.Kinds {
		if k != KindPruned {
			listed = append(listed, k)
		}
	}
	sort.Strings(listed)
	byDur := map[time.Duration][]string{}
	for k, d := range j.Kinds {
		if d > 0 && k != KindPruned {
			byDur[d] = append(byDur[d], k)
		}
	}
	for d, kinds := range byDur {
		sort.Strings(kinds)
		cutoffs = append(cutoffs, Cutoff{Kinds: kinds, Before: now.Add(-d)})
	}
	if j.Default > 0 {
		cutoffs = append(cutoffs, Cutoff{Others: true, Before: now.Add(-j.Default)})
	}
	sort.Slice(cutoffs, func(a, b int) bool { return cutoffs[a].Before.Before(cutoffs[b].Before) })
	return cutoffs, listed
}

// KindPruned is the kind of the journal entry that records a pruning.
const KindPruned = "journal.pruned"

// Detail keys of a journal.pruned entry.
const (
	DetailRedacted    = "redacted"     // entries whose content was removed
	DetailDropped     = "dropped"      // entries deleted from the start of the chain
	DetailDeadLetters = "dead_letters" // dead letters deleted
	DetailAnchorSeq   = "anchor_seq"   // with drop: sequence number of the last entry deleted
	DetailAnchorHash  = "anchor_hash"  // with drop: its hash, where verification starts
	// DetailRetention and DetailRetention+"."+kind record the journal retention in force
	// (default, and per listed kind), so that verification judges an entry by the retention
	// that redacted it, not by one lengthened since.
	DetailRetention = "retention"
)

// Pruned counts what one pruning removed.
type Pruned struct {
	Redacted    int64
	Dropped     int64
	DeadLetters int64
	Anchor      Chain // where the chain starts after it
	Head        Chain // the chain's last entry after it
	// Retention is the journal retention the pruning applied.
	Retention JournalRetention
}

// Any reports whether anything was removed.
func (p Pruned) Any() bool { return p.Redacted > 0 || p.Dropped > 0 || p.DeadLetters > 0 }

// PrunedEntry returns the journal.pruned entry that records p.
func PrunedEntry(p Pruned, at time.Time) JournalEntry {
	d := map[string]string{
		DetailRedacted:    strconv.FormatInt(p.Redacted, 10),
		DetailDropped:     strconv.FormatInt(p.Dropped, 10),
		DetailDeadLetters: strconv.FormatInt(p.DeadLetters, 10),
	}
	if p.Dropped > 0 {
		d[DetailAnchorSeq] = strconv.FormatInt(p.Anchor.Seq, 10)
		d[DetailAnchorHash] = p.Anchor.Hash.String()
	}
	d[DetailRetention] = string(FormatPeriod(p.Retention.Default))
	for k, v := range p.Retention.Kinds {
		d[DetailRetention+"."+k] = string(FormatPeriod(v))
	}
	return JournalEntry{Time: at, Kind: KindPruned, Actor: "aiskao", Subject: "retention", Result: "ok", Detail: d}
}

// recordedRetention returns the journal retention a journal.pruned entry records, if it does.
func recordedRetention(e JournalEntry) (JournalRetention, bool) {
	def, ok := e.Detail[DetailRetention]
	if e.Kind != KindPruned || !ok {
		return JournalRetention{}, false
	}
	var j JournalRetention
	var err error
	if j.Default, err = Period(def).Duration(); err != nil {
		return JournalRetention{}, false
	}
	for k, v := range e.Detail {
		kind, ok := strings.CutPrefix(k, DetailRetention+".")
		if !ok {
			continue
		}
		d, err := Period(v).Duration()
		if err != nil {
			return JournalRetention{}, false
		}
		if j.Kinds == nil {
			j.Kinds = map[string]time.Duration{}
		}
		j.Kinds[kind] = d
	}
	return j, true
}

// PruneSteps are the statements of one store that RunPrune puts in order.
type PruneSteps interface {
	// DeleteDeadLetters deletes the dead letters that failed before before, and counts them.
	DeleteDeadLetters(ctx context.Context, before time.Time) (int64, error)
	// Redact removes the content of the whole, chained entries of kinds (with others: of every
	// kind but kinds) journaled before before, marks them redacted at now, and counts them.
	Redact(ctx context.Context, kinds []string, others bool, before, now time.Time) (int64, error)
	// Finish, holding the chain's lock, drops the entries from the anchor up to the first whole
	// one (journal.pruned entries aside) when drop, setting p.Dropped and p.Anchor, and journals
	// p when it removed anything, moving the anchor in the same transaction.
	Finish(ctx context.Context, drop bool, now time.Time, p *Pruned) error
}

// RunPrune prunes by policy at now with a store's steps: dead letters, then the journal's
// content, then the drop and the journal.pruned entry.
func RunPrune(ctx context.Context, steps PruneSteps, policy RetentionPolicy, now time.Time) (Pruned, error) {
	var (
		p   Pruned
		err error
	)
	p.Retention = policy.Journal
	if policy.DeadLetters > 0 {
		if p.DeadLetters, err = steps.DeleteDeadLetters(ctx, now.Add(-policy.DeadLetters)); err != nil {
			return p, fmt.Errorf("delete old dead letters: %w", err)
		}
	}
	cutoffs, listed := policy.Journal.Cutoffs(now)
	for _, c := range cutoffs {
		kinds := c.Kinds
		if c.Others {
			kinds = listed
		}
		n, err := steps.Redact(ctx, kinds, c.Others, c.Before, now)
		p.Redacted += n
		if err != nil {
			return p, fmt.Errorf("redact old journal entries: %w", err)
		}
	}
	if err := steps.Finish(ctx, policy.Journal.Drop, now, &p); err != nil {
		return p, fmt.Errorf("prune journal: %w", err)
	}
	return p, nil
}

// Pruner is a store that removes what is past its retention.
type Pruner interface {
	// Prune removes, as of now, the journal entries' content and the dead letters past policy's
	// retention (and with Drop the oldest entries), journals what it removed as a journal.pruned
	// entry when it removed anything, and returns the counts.
	Prune(ctx context.Context, policy RetentionPolicy, now time.Time) (Pruned, error)
}

// pruneStartDelay is how long after start the first pruning waits (at most one interval): it
// keeps the start's work and the first messages clear of it, and short-lived stores (tools,
// tests) from pruning at all.
const pruneStartDelay = time.Minute

// PruneEvery prunes p by policy a minute after it is called (or one interval, if shorter) and
// then every policy.Interval, until quit is closed, and logs the journal's head each time.
// Failures are logged and tried again at the next interval; where names the store in the logs.
func PruneEvery(p Pruner, policy RetentionPolicy, quit <-chan struct{}, log *slog.Logger, where string) {
	t := time.NewTimer(min(pruneStartDelay, policy.Interval))
	defer t.Stop()
	for {
		select {
		case <-quit:
			return
		case <-t.C:
		}
		t.Reset(policy.Interval)
		got, err := p.Prune(context.Background(), policy, time.Now())
		switch {
		case err != nil:
			log.Warn("store: pruning past retention failed; will try again", "store", where, "error", err)
		case got.Any():
			log.Info("store: pruned past retention", "store", where, "journal_redacted", got.Redacted,
				"journal_dropped", got.Dropped, "dead_letters", got.DeadLetters)
		}
		if err == nil && got.Head.Seq > 0 {
			// Logs kept elsewhere witness the head: aiskao journal verify -expect SEQ:HASH then
			// finds entries cut from the end or a chain rewritten since.
			log.Info("store: journal head", "store", where, "seq", got.Head.Seq, "hash", got.Head.Hash.String(),
				"expect", fmt.Sprintf("%d:%s", got.Head.Seq, got.Head.Hash))
		}
	}
}
