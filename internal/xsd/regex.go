package xsd

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode"
)

// rng is an inclusive range of runes.
type rng struct{ lo, hi rune }

// blocks are the Unicode block escapes (\p{IsX}) that are translated.
var blocks = map[string]rng{
	"BasicLatin":            {0x0000, 0x007F},
	"Latin-1Supplement":     {0x0080, 0x00FF},
	"LatinExtended-A":       {0x0100, 0x017F},
	"LatinExtended-B":       {0x0180, 0x024F},
	"IPAExtensions":         {0x0250, 0x02AF},
	"Greek":                 {0x0370, 0x03FF},
	"Cyrillic":              {0x0400, 0x04FF},
	"Armenian":              {0x0530, 0x058F},
	"Hebrew":                {0x0590, 0x05FF},
	"Arabic":                {0x0600, 0x06FF},
	"GeneralPunctuation":    {0x2000, 0x206F},
	"CurrencySymbols":       {0x20A0, 0x20CF},
	"LetterlikeSymbols":     {0x2100, 0x214F},
	"NumberForms":           {0x2150, 0x218F},
	"Arrows":                {0x2190, 0x21FF},
	"MathematicalOperators": {0x2200, 0x22FF},
}

var (
	nameStartRanges = []rng{{':', ':'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}, {0xC0, 0xD6}, {0xD8, 0xF6}, {0xF8, 0x2FF},
		{0x370, 0x37D}, {0x37F, 0x1FFF}, {0x200C, 0x200D}, {0x2070, 0x218F}, {0x2C00, 0x2FEF}, {0x3001, 0xD7FF},
		{0xF900, 0xFDCF}, {0xFDF0, 0xFFFD}, {0x10000, 0xEFFFF}}
	nameCharRanges = normRanges(append([]rng{{'-', '-'}, {'.', '.'}, {'0', '9'}, {0xB7, 0xB7}, {0x300, 0x36F}, {0x203F, 0x2040}}, nameStartRanges...))
	spaceRanges    = []rng{{'\t', '\n'}, {'\r', '\r'}, {' ', ' '}}
)

// translateRegex turns an XSD regular expression into an anchored Go one.
func translateRegex(src string) (string, error) {
	p := &rxParser{src: []rune(src)}
	var b strings.Builder
	b.WriteString(`^(?:`)
	for p.i < len(p.src) {
		c := p.src[p.i]
		switch c {
		case '\\':
			set, lit, err := p.escape()
			if err != nil {
				return "", err
			}
			if set != nil {
				b.WriteString(classString(set))
			} else {
				b.WriteString(regexp.QuoteMeta(string(lit)))
			}
		case '[':
			set, err := p.class()
			if err != nil {
				return "", err
			}
			b.WriteString(classString(set))
		case '.':
			p.i++
			b.WriteString(`[^\n\r]`)
		case '^', '$':
			p.i++
			b.WriteString(`\` + string(c))
		default:
			p.i++
			b.WriteRune(c)
		}
	}
	b.WriteString(`)$`)
	return b.String(), nil
}

type rxParser struct {
	src []rune
	i   int
}

// escape reads a backslash escape: either a set of runes or one literal.
func (p *rxParser) escape() ([]rng, rune, error) {
	p.i++ // backslash
	if p.i >= len(p.src) {
		return nil, 0, fmt.Errorf("pattern ends with a backslash")
	}
	c := p.src[p.i]
	p.i++
	switch c {
	case 'n':
		return nil, '\n', nil
	case 'r':
		return nil, '\r', nil
	case 't':
		return nil, '\t', nil
	case 'd':
		return tableRanges(unicode.Nd), 0, nil
	case 'D':
		return negRanges(tableRanges(unicode.Nd)), 0, nil
	case 's':
		return spaceRanges, 0, nil
	case 'S':
		return negRanges(spaceRanges), 0, nil
	case 'w':
		return negRanges(wordComplement()), 0, nil
	case 'W':
		return wordComplement(), 0, nil
	case 'i':
		return nameStartRanges, 0, nil
	case 'I':
		return negRanges(nameStartRanges), 0, nil
	case 'c':
		return nameCharRanges, 0, nil
	case 'C':
		return negRanges(nameCharRanges), 0, nil
	case 'p', 'P':
		if p.i >= len(p.src) || p.src[p.i] != '{' {
			return nil, 0, fmt.Errorf(`\%c must be followed by {name}`, c)
		}
		end := p.i
		for end < len(p.src) && p.src[end] != '}' {
			end++
		}
		if end >= len(p.src) {
			return nil, 0, fmt.Errorf(`unterminated \%c{`, c)
		}
		name := string(p.src[p.i+1 : end])
		p.i = end + 1
		var set []rng
		if strings.HasPrefix(name, "Is") {
			r, ok := blocks[name[2:]]
			if !ok {
				return nil, 0, fmt.Errorf(`Unicode block \p{%s} is not supported`, name)
			}
			set = []rng{r}
		} else {
			t, ok := unicode.Categories[name]
			if !ok {
				return nil, 0, fmt.Errorf(`unknown Unicode category \p{%s}`, name)
			}
			set = tableRanges(t)
		}
		if c == 'P' {
			set = negRanges(set)
		}
		return set, 0, nil
	case '\\', '|', '.', '-', '^', '?', '*', '+', '{', '}', '(', ')', '[', ']':
		return nil, c, nil
	}
	return nil, 0, fmt.Errorf(`unknown escape \%c`, c)
}

// class reads a character class expression, with subtraction.
func (p *rxParser) class() ([]rng, error) {
	p.i++ // [
	neg := false
	if p.i < len(p.src) && p.src[p.i] == '^' {
		neg = true
		p.i++
	}
	var set []rng
	first := true
	for {
		if p.i >= len(p.src) {
			return nil, fmt.Errorf("unterminated character class")
		}
		c := p.src[p.i]
		if c == ']' && !first {
			p.i++
			break
		}
		if c == '-' && p.i+1 < len(p.src) && p.src[p.i+1] == '[' {
			p.i++
			sub, err := p.class()
			if err != nil {
				return nil, err
			}
			if p.i >= len(p.src) || p.src[p.i] != ']' {
				return nil, fmt.Errorf("class subtraction must end the class")
			}
			p.i++
			set = normRanges(set)
			if neg {
				set = negRanges(set)
			}
			return subRanges(set, normRanges(sub)), nil
		}
		first = false
		var lo rune
		if c == '\\' {
			s, lit, err := p.escape()
			if err != nil {
				return nil, err
			}
			if s != nil {
				set = append(set, s...)
				continue
			}
			lo = lit
		} else {
			lo = c
			p.i++
		}
		// A range lo-hi, unless the '-' is last or starts a subtraction.
		if p.i+1 < len(p.src) && p.src[p.i] == '-' && p.src[p.i+1] != ']' && p.src[p.i+1] != '[' {
			p.i++
			hi := p.src[p.i]
			if hi == '\\' {
				_, lit, err := p.escape()
				if err != nil {
					return nil, err
				}
				hi = lit
			} else {
				p.i++
			}
			if hi < lo {
				return nil, fmt.Errorf("range %c-%c is reversed", lo, hi)
			}
			set = append(set, rng{lo, hi})
			continue
		}
		set = append(set, rng{lo, lo})
	}
	set = normRanges(set)
	if neg {
		set = negRanges(set)
	}
	return set, nil
}

func wordComplement() []rng {
	return normRanges(append(append(tableRanges(unicode.P), tableRanges(unicode.Z)...), tableRanges(unicode.C)...))
}

func tableRanges(t *unicode.RangeTable) []rng {
	var out []rng
	for _, r := range t.R16 {
		for lo := rune(r.Lo); lo <= rune(r.Hi); lo += rune(r.Stride) {
			if r.Stride == 1 {
				out = append(out, rng{rune(r.Lo), rune(r.Hi)})
				break
			}
			out = append(out, rng{lo, lo})
		}
	}
	for _, r := range t.R32 {
		for lo := rune(r.Lo); lo <= rune(r.Hi); lo += rune(r.Stride) {
			if r.Stride == 1 {
				out = append(out, rng{rune(r.Lo), rune(r.Hi)})
				break
			}
			out = append(out, rng{lo, lo})
		}
	}
	return normRanges(out)
}

func normRanges(in []rng) []rng {
	s := append([]rng(nil), in...)
	sort.Slice(s, func(i, j int) bool { return s[i].lo < s[j].lo })
	var out []rng
	for _, r := range s {
		if n := len(out); n > 0 && r.lo <= out[n-1].hi+1 {
			if r.hi > out[n-1].hi {
				out[n-1].hi = r.hi
			}
			continue
		}
		out = append(out, r)
	}
	return out
}

func negRanges(in []rng) []rng {
	in = normRanges(in)
	var out []rng
	next := rune(0)
	for _, r := range in {
		if r.lo > next {
			out = append(out, rng{next, r.lo - 1})
		}
		next = r.hi + 1
	}
	if next <= unicode.MaxRune {
		out = append(out, rng{next, unicode.MaxRune})
	}
	return out
}

func subRanges(a, b []rng) []rng {
	nb := negRanges(b)
	var out []rng
	for _, x := range a {
		for _, y := range nb {
			lo, hi := max(x.lo, y.lo), min(x.hi, y.hi)
			if lo <= hi {
				out = append(out, rng{lo, hi})
			}
		}
	}
	return normRanges(out)
}

func classString(set []rng) string {
	if len(set) == 0 {
		return `[^\x00-\x{10FFFF}]`
	}
	var b strings.Builder
	b.WriteByte('[')
	for _, r := range set {
		fmt.Fprintf(&b, `\x{%x}`, r.lo)
		if r.hi != r.lo {
			fmt.Fprintf(&b, `-\x{%x}`, r.hi)
		}
	}
	b.WriteByte(']')
	return b.String()
}
