package xsd

import (
	"fmt"
	"sort"
)

// maxExpand bounds the finite occurrence bounds that are expanded into
// automaton positions; larger bounds are a compile error.
const maxExpand = 200

// model is a content model compiled to a Glushkov automaton: positions are
// occurrences of element declarations and wildcards; a state is the set of
// positions last matched (one position for deterministic models).
type model struct {
	labels   []label
	start    trans
	follow   []trans
	final    []bool
	nullable bool
	all      *allModel
}

// label is what a position matches.
type label struct {
	elem *elemDecl
	wc   *wildcard
}

// trans are the positions reachable from a state, indexed by name.
type trans struct {
	byName map[qname][]int32
	wild   []int32
}

// allModel is an xs:all group: each element at most once, in any order.
type allModel struct {
	elems    []*particle
	optional bool // the group itself has minOccurs=0
}

type frag struct {
	first, last []int32
	nullable    bool
}

type builder struct {
	labels []label
	follow [][]int32
}

// buildModel builds a model from a particle known to be valid.
func buildModel(p *particle) *model {
	m, err := newModel(p)
	if err != nil {
		panic(err)
	}
	return m
}

func newModel(p *particle) (*model, error) {
	if p.kind == pAll || (p.kind == pSequence && len(p.children) == 1 && p.children[0].kind == pAll && p.min == 1 && p.max == 1) {
		a := p
		if p.kind == pSequence {
			a = p.children[0]
		}
		am := &allModel{optional: a.min == 0}
		for _, ch := range a.children {
			if ch.kind != pElement || ch.max > 1 {
				return nil, fmt.Errorf("xs:all may hold only elements with maxOccurs 0 or 1")
			}
			am.elems = append(am.elems, ch)
		}
		return &model{all: am}, nil
	}
	b := &builder{}
	f, err := b.rep(p)
	if err != nil {
		return nil, err
	}
	m := &model{labels: b.labels, nullable: f.nullable, final: make([]bool, len(b.labels))}
	for _, l := range f.last {
		m.final[l] = true
	}
	m.start = m.index(f.first)
	m.follow = make([]trans, len(b.labels))
	for i, fl := range b.follow {
		m.follow[i] = m.index(fl)
	}
	return m, nil
}

func (m *model) index(ps []int32) trans {
	ps = dedupe(ps)
	t := trans{}
	for _, p := range ps {
		l := m.labels[p]
		if l.elem != nil {
			if t.byName == nil {
				t.byName = map[qname][]int32{}
			}
			t.byName[l.elem.name] = append(t.byName[l.elem.name], p)
		} else {
			t.wild = append(t.wild, p)
		}
	}
	return t
}

func dedupe(ps []int32) []int32 {
	if len(ps) < 2 {
		return ps
	}
	s := append([]int32(nil), ps...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	out := s[:1]
	for _, p := range s[1:] {
		if p != out[len(out)-1] {
			out = append(out, p)
		}
	}
	return out
}

func (b *builder) pos(l label) frag {
	id := int32(len(b.labels))
	b.labels = append(b.labels, l)
	b.follow = append(b.follow, nil)
	return frag{first: []int32{id}, last: []int32{id}}
}

func (b *builder) concat(x, y frag) frag {
	for _, l := range x.last {
		b.follow[l] = append(b.follow[l], y.first...)
	}
	out := frag{nullable: x.nullable && y.nullable}
	out.first = append(append([]int32(nil), x.first...), pick(x.nullable, y.first)...)
	out.last = append(append([]int32(nil), y.last...), pick(y.nullable, x.last)...)
	return out
}

func pick(ok bool, s []int32) []int32 {
	if ok {
		return s
	}
	return nil
}

func (b *builder) loop(f frag) {
	for _, l := range f.last {
		b.follow[l] = append(b.follow[l], f.first...)
	}
}

// rep builds a particle with its occurrence bounds.
func (b *builder) rep(p *particle) (frag, error) {
	eps := frag{nullable: true}
	if p.max == 0 {
		return eps, nil
	}
	if p.min > maxExpand || p.max > maxExpand {
		return frag{}, fmt.Errorf("occurrence bound above %d is not supported", maxExpand)
	}
	out := eps
	copies := p.min
	if p.max < 0 && copies > 0 {
		copies-- // the last required copy becomes a loop
	}
	for i := 0; i < copies; i++ {
		f, err := b.term(p)
		if err != nil {
			return frag{}, err
		}
		out = b.concat(out, f)
	}
	if p.max < 0 {
		f, err := b.term(p)
		if err != nil {
			return frag{}, err
		}
		b.loop(f)
		if p.min == 0 {
			f.nullable = true
		}
		return b.concat(out, f), nil
	}
	tail := eps
	for k := 0; k < p.max-p.min; k++ {
		f, err := b.term(p)
		if err != nil {
			return frag{}, err
		}
		tail = b.concat(f, tail)
		tail.nullable = true
	}
	return b.concat(out, tail), nil
}

// term builds one occurrence of a particle's term.
func (b *builder) term(p *particle) (frag, error) {
	switch p.kind {
	case pElement:
		return b.pos(label{elem: p.elem}), nil
	case pWildcard:
		return b.pos(label{wc: p.wc}), nil
	case pSequence:
		out := frag{nullable: true}
		for _, ch := range p.children {
			f, err := b.rep(ch)
			if err != nil {
				return frag{}, err
			}
			out = b.concat(out, f)
		}
		return out, nil
	case pChoice:
		var out frag
		for _, ch := range p.children {
			f, err := b.rep(ch)
			if err != nil {
				return frag{}, err
			}
			out.first = append(out.first, f.first...)
			out.last = append(out.last, f.last...)
			out.nullable = out.nullable || f.nullable
		}
		return out, nil
	}
	return frag{}, fmt.Errorf("xs:all must be the whole content model")
}

// mstate is a position set; started is false before the first child.
type mstate struct {
	started bool
	set     []int32
	one     [1]int32 // backing store for the common single-position set
}

// next returns the transitions out of the state.
func (m *model) next(s *mstate, visit func(t *trans) bool) {
	if !s.started {
		visit(&m.start)
		return
	}
	for _, p := range s.set {
		if !visit(&m.follow[p]) {
			return
		}
	}
}

// step moves on child element name and returns its declaration or
// wildcard; ok is false when the model does not allow the child here.
func (m *model) step(s *mstate, name qname) (l label, ok bool) {
	var hits []int32
	var wild []int32
	m.next(s, func(t *trans) bool {
		hits = append(hits, t.byName[name]...)
		for _, p := range t.wild {
			if m.labels[p].wc.allows(name.ns) {
				wild = append(wild, p)
			}
		}
		return true
	})
	if len(hits) == 0 && len(wild) == 0 {
		return label{}, false
	}
	if len(hits) > 0 {
		l = m.labels[hits[0]]
	} else {
		l = m.labels[wild[0]]
	}
	all := append(hits, wild...)
	if len(all) == 1 {
		s.one[0] = all[0]
		s.set = s.one[:]
	} else {
		s.set = dedupe(all)
	}
	s.started = true
	return l, true
}

// accepting reports whether the children so far are a complete content.
func (m *model) accepting(s *mstate) bool {
	if !s.started {
		return m.nullable
	}
	for _, p := range s.set {
		if m.final[p] {
			return true
		}
	}
	return false
}

// expected lists what may come next, for messages.
func (m *model) expected(s *mstate) []string {
	seen := map[string]bool{}
	var out []string
	m.next(s, func(t *trans) bool {
		for q := range t.byName {
			if !seen[q.local] {
				seen[q.local] = true
				out = append(out, q.local)
			}
		}
		if len(t.wild) > 0 && !seen["(any element)"] {
			seen["(any element)"] = true
			out = append(out, "(any element)")
		}
		return true
	})
	sort.Strings(out)
	return out
}

// mentions reports whether the model names the element anywhere.
func (m *model) mentions(name qname) bool {
	if m.all != nil {
		for _, p := range m.all.elems {
			if p.elem.name == name {
				return true
			}
		}
		return false
	}
	for _, l := range m.labels {
		if l.elem != nil && l.elem.name == name {
			return true
		}
	}
	return false
}
