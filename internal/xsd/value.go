package xsd

import (
	"fmt"
	"math/big"
	"strings"
	"unicode/utf8"
)

// normalizeWS applies a whiteSpace facet value.
func normalizeWS(s string, ws whiteSpace) string {
	switch ws {
	case wsReplace:
		return strings.Map(func(r rune) rune {
			if r == '\t' || r == '\n' || r == '\r' {
				return ' '
			}
			return r
		}, s)
	case wsCollapse:
		if !needsCollapse(s) {
			return s
		}
		return strings.Join(strings.Fields(strings.Map(func(r rune) rune {
			if r == '\t' || r == '\n' || r == '\r' {
				return ' '
			}
			return r
		}, s)), " ")
	}
	return s
}

// needsCollapse reports whether collapsing would change s.
func needsCollapse(s string) bool {
	prevSpace := true
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\t', '\n', '\r':
			return true
		case ' ':
			if prevSpace {
				return true
			}
			prevSpace = true
		default:
			prevSpace = false
		}
	}
	return prevSpace && len(s) > 0
}

// violation is a value that breaks a rule of its simple type.
type violation struct {
	rule, msg string
}

// quote shows a value in a message, shortened when long.
func quote(s string) string {
	if len(s) > 80 {
		cut := 77
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return fmt.Sprintf("%q…", s[:cut])
	}
	return fmt.Sprintf("%q", s)
}

// typeLabel names a simple type for messages.
func typeLabel(st *simpleType) string {
	for t := st; t != nil; t = t.base {
		if t.name.local != "" {
			if t.builtin {
				return "xs:" + t.name.local
			}
			return t.name.local
		}
	}
	return "anonymous type"
}

// checkValue validates text against a simple type. resolve maps a prefix to
// a namespace for QName values; it may be nil.
func checkValue(st *simpleType, s string, resolve func(string) (string, bool)) (any, *violation) {
	norm := normalizeWS(s, st.ws)
	var val any = norm
	switch st.variety {
	case list:
		items := strings.Fields(norm)
		for _, it := range items {
			if _, v := checkValue(st.item, it, resolve); v != nil {
				return nil, &violation{v.rule, fmt.Sprintf("list item %s", v.msg)}
			}
		}
		return val, checkFacets(st, norm, val, len(items))
	case union:
		ok := false
		for _, m := range st.members {
			if mv, v := checkValue(m, norm, resolve); v == nil {
				val, ok = mv, true
				break
			}
		}
		if !ok {
			return nil, &violation{"type", fmt.Sprintf("value %s is not valid for any member type of %s", quote(norm), typeLabel(st))}
		}
		return val, checkFacets(st, norm, val, utf8.RuneCountInString(norm))
	}
	if st.lex != nil {
		v, err := st.lex(norm)
		if err != nil {
			return nil, &violation{"type", fmt.Sprintf("value %s %v", quote(norm), err)}
		}
		val = v
	}
	if (st.prim == "QName" || st.prim == "NOTATION") && resolve != nil {
		if p, _, ok := strings.Cut(norm, ":"); ok {
			if _, bound := resolve(p); !bound {
				return nil, &violation{"type", fmt.Sprintf("value %s uses undeclared prefix %q", quote(norm), p)}
			}
		}
	}
	n := -1
	if hasLengthFacet(st) {
		n = valueLength(st, norm)
	}
	return val, checkFacets(st, norm, val, n)
}

func hasLengthFacet(st *simpleType) bool {
	for t := st; t != nil; t = t.base {
		if f := t.facets; f != nil && (f.length >= 0 || f.minLength >= 0 || f.maxLength >= 0) {
			return true
		}
	}
	return false
}

// valueLength measures a value in the units of its type.
func valueLength(st *simpleType, norm string) int {
	switch st.prim {
	case "hexBinary":
		return len(norm) / 2
	case "base64Binary":
		var b b64
		b.write(norm)
		return int(b.octets())
	}
	return utf8.RuneCountInString(norm)
}

// checkFacets checks the facets of every derivation step; n is the
// length in the type's units (-1 when not measured).
func checkFacets(st *simpleType, norm string, val any, n int) *violation {
	for t := st; t != nil; t = t.base {
		f := t.facets
		if f == nil {
			continue
		}
		if len(f.patterns) > 0 {
			ok := false
			for _, re := range f.patterns {
				if re.MatchString(norm) {
					ok = true
					break
				}
			}
			if !ok {
				return &violation{"pattern", fmt.Sprintf("value %s does not match pattern %s", quote(norm), strings.Join(f.patternSrc, " | "))}
			}
		}
		if len(f.enum) > 0 {
			ok := false
			for i, e := range f.enumVals {
				if valuesEqual(val, e) || norm == f.enum[i] {
					ok = true
					break
				}
			}
			if !ok {
				return &violation{"enumeration", fmt.Sprintf("value %s is not one of the allowed values %s", quote(norm), enumList(f.enum))}
			}
		}
		if n >= 0 {
			switch {
			case f.length >= 0 && n != f.length:
				return &violation{"length", fmt.Sprintf("value %s has length %d, must be %d", quote(norm), n, f.length)}
			case f.minLength >= 0 && n < f.minLength:
				return &violation{"minLength", fmt.Sprintf("value %s has length %d, less than minLength %d", quote(norm), n, f.minLength)}
			case f.maxLength >= 0 && n > f.maxLength:
				return &violation{"maxLength", fmt.Sprintf("value %s has length %d, more than maxLength %d", quote(norm), n, f.maxLength)}
			}
		}
		for _, b := range []struct {
			rule string
			b    *bound
			bad  func(int) bool
			word string
		}{
			{"minInclusive", f.minIncl, func(c int) bool { return c < 0 }, "less than"},
			{"maxInclusive", f.maxIncl, func(c int) bool { return c > 0 }, "greater than"},
			{"minExclusive", f.minExcl, func(c int) bool { return c <= 0 }, "not greater than"},
			{"maxExclusive", f.maxExcl, func(c int) bool { return c >= 0 }, "not less than"},
		} {
			if b.b == nil {
				continue
			}
			if c, ok := compareValues(val, b.b.val); ok && b.bad(c) {
				return &violation{b.rule, fmt.Sprintf("value %s is %s %s (%s)", quote(norm), b.word, b.b.src, b.rule)}
			}
		}
		if f.totalDig >= 0 || f.fracDig >= 0 {
			total, frac := digits(norm)
			if f.totalDig >= 0 && total > f.totalDig {
				return &violation{"totalDigits", fmt.Sprintf("value %s has %d digits, more than totalDigits %d", quote(norm), total, f.totalDig)}
			}
			if f.fracDig >= 0 && frac > f.fracDig {
				return &violation{"fractionDigits", fmt.Sprintf("value %s has %d fraction digits, more than fractionDigits %d", quote(norm), frac, f.fracDig)}
			}
		}
	}
	return nil
}

func enumList(e []string) string {
	const max = 10
	q := make([]string, 0, max+1)
	for i, v := range e {
		if i == max {
			q = append(q, fmt.Sprintf("… (%d in all)", len(e)))
			break
		}
		q = append(q, fmt.Sprintf("%q", v))
	}
	return strings.Join(q, ", ")
}

// digits counts the significant total and fraction digits of a decimal.
func digits(s string) (total, frac int) {
	s = strings.TrimLeft(s, "+-")
	ip, fp, _ := strings.Cut(s, ".")
	ip = strings.TrimLeft(ip, "0")
	fp = strings.TrimRight(fp, "0")
	total = len(ip) + len(fp)
	if total == 0 {
		total = 1
	}
	return total, len(fp)
}

func valuesEqual(a, b any) bool {
	c, ok := compareValues(a, b)
	if ok {
		return c == 0
	}
	as, aok := a.(string)
	bs, bok := b.(string)
	return aok && bok && as == bs
}

// compareValues orders two values of the same kind.
func compareValues(a, b any) (int, bool) {
	switch x := a.(type) {
	case *big.Rat:
		if y, ok := b.(*big.Rat); ok {
			return x.Cmp(y), true
		}
	case float64:
		if y, ok := b.(float64); ok {
			switch {
			case x < y:
				return -1, true
			case x > y:
				return 1, true
			case x == y:
				return 0, true
			}
			return 2, false // NaN
		}
	case dateVal:
		if y, ok := b.(dateVal); ok {
			return x.t.Compare(y.t), true
		}
	case bool:
		if y, ok := b.(bool); ok && x == y {
			return 0, true
		}
	}
	return 0, false
}

// derivesFromBuiltin reports whether st is or derives from built-in name.
func derivesFromBuiltin(st *simpleType, name string) bool {
	for t := st; t != nil; t = t.base {
		if t.builtin && t.name.local == name {
			return true
		}
	}
	return false
}
