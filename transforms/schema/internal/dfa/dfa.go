// Package dfa answers regexp.MatchString's question — does the pattern match somewhere in the
// string — with a deterministic automaton built once from the pattern: one table lookup a byte of
// ASCII, whatever the pattern, where Go's regexp engines cost tens of nanoseconds a byte. Schemas
// check base64 attachments of hundreds of kilobytes against a pattern; this is what makes that
// linear with a small constant.
//
// The automaton is made from the very program regexp.Compile runs (regexp/syntax, Perl flags,
// simplified, compiled), by the subset construction over it, and steps over the text rune by rune
// as regexp does (an invalid byte reads as U+FFFD), so it accepts exactly the strings regexp does:
// MatchString asks only whether a match exists, which leftmost-first preference cannot change.
// Compile refuses, and the caller keeps using the regexp, whatever it is not sure of: word
// boundaries and line anchors ((?m), \b, \B), and patterns whose automaton would be large.
package dfa

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"sort"
	"unicode"
	"unicode/utf8"

	"regexp/syntax"
)

// ErrUnsupported is wrapped by Compile's error for a pattern it leaves to the regexp.
var ErrUnsupported = errors.New("dfa: pattern left to the regexp")

// Limits on what Compile builds; beyond them it refuses. They bound the memory of one automaton
// (states × (128 + classes) entries of two bytes: at most 1 MB) and the work of building it.
const (
	maxInsts   = 4096    // instructions of the compiled program
	maxStates  = 2048    // states of the automaton, the dead and the matched one included
	maxCuts    = 1 << 22 // ranges of runes × instructions that consume a rune
	maxEntries = 1 << 18 // states × classes of runes
	maxWork    = 1 << 22 // instructions visited while building
)

// States 0 and 1 are sinks: no match is possible any more, and a match has been found.
const (
	dead    = 0
	matched = 1
)

// DFA decides whether its pattern matches somewhere in a string. It is immutable once compiled
// and safe for concurrent use.
type DFA struct {
	ascii   []uint16     // the next state for state<<7 | b, b a byte below 0x80
	next    []uint16     // the next state for state*classes + the rune's class, for every rune
	classes int          // the classes of runes the pattern tells apart
	cuts    []rune       // range i holds the runes from cuts[i] up to cuts[i+1]-1 (the last up to MaxRune)
	classOf []uint16     // the class of range i: ranges every instruction treats alike share one
	atEnd   []bool       // whether the text matches when it ends in the state
	stay    []*[256]bool // the bytes a state loops on, nil for a state that loops on none
	start   uint16       // the state before the first rune
	empty   bool         // whether the empty string matches
}

// MatchString reports whether the pattern matches somewhere in s, as regexp.MatchString does.
func (d *DFA) MatchString(s string) bool {
	if len(s) == 0 {
		return d.empty
	}
	st := d.start
	ascii, next := d.ascii, d.next
	for i := 0; i < len(s); {
		if st <= matched {
			return st == matched
		}
		if stay := d.stay[st]; stay != nil {
			// A run of bytes the state loops on (base64 in a base64 state), without the
			// table's lookup that each step waits on.
			for i+4 <= len(s) && stay[s[i]] && stay[s[i+1]] && stay[s[i+2]] && stay[s[i+3]] {
				i += 4
			}
			for i < len(s) && stay[s[i]] {
				i++
			}
			if i == len(s) {
				break
			}
		}
		if c := s[i]; c < utf8.RuneSelf {
			st = ascii[int(st)<<7|int(c)]
			i++
			continue
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		st = next[int(st)*d.classes+d.class(r)]
		i += w
	}
	return st == matched || d.atEnd[st]
}

// class is the class of runes r belongs to.
func (d *DFA) class(r rune) int {
	return int(d.classOf[sort.Search(len(d.cuts), func(i int) bool { return d.cuts[i] > r })-1])
}

// States is the number of states of the automaton, the two sinks included.
func (d *DFA) States() int { return len(d.atEnd) }

// Compile builds the automaton of expr, parsed as regexp.Compile parses it. The error wraps
// ErrUnsupported for a valid pattern left to the regexp.
func Compile(expr string) (*DFA, error) {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil, fmt.Errorf("dfa: %w", err)
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return nil, fmt.Errorf("dfa: %w", err)
	}
	b, err := newBuilder(prog)
	if err != nil {
		return nil, err
	}
	return b.build()
}

func unsupported(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrUnsupported}, args...)...)
}

// builder makes the automaton: a state is the set of the program's instructions threads wait on
// (those that consume a rune, Match, and $ waiting for the end), kept sorted.
type builder struct {
	prog    *syntax.Prog
	cuts    []rune
	classOf []uint16
	classes int
	takes   [][]bool // takes[pc][class]: instruction pc consumes the runes of the class

	ids    map[string]uint16
	sets   [][]uint32
	seen   []uint32 // visit marks of closure, one generation a call
	gen    uint32
	stack  []uint32
	work   int
	keyBuf []byte
}

func newBuilder(prog *syntax.Prog) (*builder, error) {
	if len(prog.Inst) > maxInsts {
		return nil, unsupported("%d instructions (at most %d)", len(prog.Inst), maxInsts)
	}
	cuts := []rune{0}
	cut := func(lo, hi rune) {
		cuts = append(cuts, lo)
		if hi < unicode.MaxRune {
			cuts = append(cuts, hi+1)
		}
	}
	var cons []int // the instructions that consume a rune
	for pc, in := range prog.Inst {
		switch in.Op {
		case syntax.InstAlt, syntax.InstAltMatch, syntax.InstCapture, syntax.InstNop,
			syntax.InstMatch, syntax.InstFail:
		case syntax.InstEmptyWidth:
			if op := syntax.EmptyOp(in.Arg); op&^(syntax.EmptyBeginText|syntax.EmptyEndText) != 0 {
				return nil, unsupported("an empty-width assertion other than ^ and $ at the ends of the text (%#x)", op)
			}
		case syntax.InstRuneAny:
			cons = append(cons, pc)
		case syntax.InstRuneAnyNotNL:
			cons = append(cons, pc)
			cut('\n', '\n')
		case syntax.InstRune, syntax.InstRune1:
			cons = append(cons, pc)
			if len(in.Rune) == 1 {
				r0 := in.Rune[0]
				cut(r0, r0)
				if syntax.Flags(in.Arg)&syntax.FoldCase != 0 {
					for r := unicode.SimpleFold(r0); r != r0; r = unicode.SimpleFold(r) {
						cut(r, r)
					}
				}
				break
			}
			if len(in.Rune)%2 != 0 {
				return nil, unsupported("a rune instruction of %d bounds", len(in.Rune))
			}
			for i := 0; i < len(in.Rune); i += 2 {
				cut(in.Rune[i], in.Rune[i+1])
			}
		default:
			return nil, unsupported("instruction %v", in.Op)
		}
	}
	slices.Sort(cuts)
	cuts = slices.Compact(cuts)
	if len(cuts)*len(cons) > maxCuts {
		return nil, unsupported("%d ranges of runes for %d instructions", len(cuts), len(cons))
	}
	// Within a range every instruction answers alike, so its first rune stands for all; ranges
	// that every instruction answers alike on (the gaps of \pL, say) make one class.
	b := &builder{
		prog: prog, cuts: cuts, classOf: make([]uint16, len(cuts)), takes: make([][]bool, len(prog.Inst)),
		ids: map[string]uint16{}, seen: make([]uint32, len(prog.Inst)),
	}
	for _, pc := range cons {
		b.takes[pc] = []bool{}
	}
	classes := map[string]uint16{}
	sig := make([]byte, len(cons))
	for i, r := range cuts {
		for j, pc := range cons {
			sig[j] = 0
			if takes(&prog.Inst[pc], r) {
				sig[j] = 1
			}
		}
		id, ok := classes[string(sig)]
		if !ok {
			id = uint16(len(classes))
			classes[string(sig)] = id
			for j, pc := range cons {
				b.takes[pc] = append(b.takes[pc], sig[j] == 1)
			}
		}
		b.classOf[i] = id
	}
	b.classes = len(classes)
	return b, nil
}

// takes tells whether in, an instruction that consumes a rune, consumes r.
func takes(in *syntax.Inst, r rune) bool {
	switch in.Op {
	case syntax.InstRuneAny:
		return true
	case syntax.InstRuneAnyNotNL:
		return r != '\n'
	}
	return in.MatchRune(r)
}

// closure is the set of instructions threads at roots wait on, with cond the assertions that hold
// here. With pending, a $ that holds only at the end of the text stays in the set, to be decided
// there; without, it drops. The result is sorted.
func (b *builder) closure(roots []uint32, cond syntax.EmptyOp, pending bool) ([]uint32, error) {
	b.gen++
	var out []uint32
	stack := append(b.stack[:0], roots...)
	for len(stack) > 0 {
		pc := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if b.seen[pc] == b.gen {
			continue
		}
		b.seen[pc] = b.gen
		if b.work++; b.work > maxWork {
			return nil, unsupported("the automaton takes more than %d steps to build", maxWork)
		}
		in := &b.prog.Inst[pc]
		switch in.Op {
		case syntax.InstAlt, syntax.InstAltMatch:
			stack = append(stack, in.Arg, in.Out)
		case syntax.InstCapture, syntax.InstNop:
			stack = append(stack, in.Out)
		case syntax.InstEmptyWidth:
			need := syntax.EmptyOp(in.Arg)
			switch {
			case need&^cond == 0:
				stack = append(stack, in.Out)
			case pending && need&^(cond|syntax.EmptyEndText) == 0:
				out = append(out, pc)
			}
		case syntax.InstMatch:
			out = append(out, pc)
		case syntax.InstFail:
		default: // consumes a rune
			out = append(out, pc)
		}
	}
	b.stack = stack
	if b.work += len(out) * bits.Len(uint(len(out))); b.work > maxWork { // the sort
		return nil, unsupported("the automaton takes more than %d steps to build", maxWork)
	}
	slices.Sort(out)
	return out, nil
}

// id is the state of set, made when new.
func (b *builder) id(set []uint32) (uint16, error) {
	if len(set) == 0 {
		return dead, nil
	}
	for _, pc := range set {
		if b.prog.Inst[pc].Op == syntax.InstMatch {
			return matched, nil // a match exists, whatever follows
		}
	}
	b.keyBuf = b.keyBuf[:0]
	for _, pc := range set {
		b.keyBuf = binary.LittleEndian.AppendUint32(b.keyBuf, pc)
	}
	if id, ok := b.ids[string(b.keyBuf)]; ok {
		return id, nil
	}
	if len(b.sets) >= maxStates || (len(b.sets)+1)*b.classes > maxEntries {
		return 0, unsupported("more than %d states of %d classes of runes", len(b.sets), b.classes)
	}
	id := uint16(len(b.sets))
	b.ids[string(b.keyBuf)] = id
	b.sets = append(b.sets, set)
	return id, nil
}

func (b *builder) build() (*DFA, error) {
	b.sets = [][]uint32{nil, nil} // the sinks
	start := []uint32{uint32(b.prog.Start)}
	first, err := b.closure(start, syntax.EmptyBeginText, true)
	if err != nil {
		return nil, err
	}
	d := &DFA{cuts: b.cuts, classOf: b.classOf, classes: b.classes}
	if d.start, err = b.id(first); err != nil {
		return nil, err
	}
	whole, err := b.closure(start, syntax.EmptyBeginText|syntax.EmptyEndText, false)
	if err != nil {
		return nil, err
	}
	d.empty = b.hasMatch(whole)

	// Breadth first; b.sets grows while it is walked. Every later position also starts a
	// thread at the program's start, as regexp's unanchored search does (^ then fails there).
	var roots []uint32
	for s := 0; s < len(b.sets); s++ {
		for c := range b.classes {
			id := uint16(s) // the sinks stay where they are
			if s > matched {
				roots = roots[:0]
				for _, pc := range b.sets[s] {
					if t := b.takes[pc]; t != nil && t[c] {
						roots = append(roots, b.prog.Inst[pc].Out)
					}
				}
				roots = append(roots, uint32(b.prog.Start))
				set, err := b.closure(roots, 0, true)
				if err != nil {
					return nil, err
				}
				if id, err = b.id(set); err != nil {
					return nil, err
				}
			}
			d.next = append(d.next, id)
		}
	}
	d.atEnd = make([]bool, len(b.sets))
	d.ascii = make([]uint16, len(b.sets)<<7)
	d.stay = make([]*[256]bool, len(b.sets))
	for s := range b.sets {
		if s == matched {
			d.atEnd[s] = true
		} else if s > matched {
			end, err := b.closure(b.sets[s], syntax.EmptyEndText, false)
			if err != nil {
				return nil, err
			}
			d.atEnd[s] = b.hasMatch(end)
		}
		for c := range rune(utf8.RuneSelf) {
			next := d.next[s*b.classes+d.class(c)]
			d.ascii[s<<7|int(c)] = next
			if int(next) == s && s > matched {
				if d.stay[s] == nil {
					d.stay[s] = new([256]bool)
				}
				d.stay[s][c] = true
			}
		}
	}
	return d, nil
}

func (b *builder) hasMatch(set []uint32) bool {
	for _, pc := range set {
		if b.prog.Inst[pc].Op == syntax.InstMatch {
			return true
		}
	}
	return false
}
