package xsd

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// builtins holds the built-in simple types by local name; filled at init.
var builtins = map[string]*simpleType{}

// anySimple is the base of all simple types.
var anySimple *simpleType

func init() {
	anySimple = defBuiltin("anySimpleType", nil, "anySimpleType", wsPreserve, func(s string) (any, error) { return s, nil })
	str := defBuiltin("string", anySimple, "string", wsPreserve, func(s string) (any, error) { return s, nil })
	norm := defBuiltin("normalizedString", str, "", wsReplace, nil)
	tok := defBuiltin("token", norm, "", wsCollapse, nil)
	defBuiltin("language", tok, "", wsCollapse, reCheck("language", reLanguage))
	nmtoken := defBuiltin("NMTOKEN", tok, "", wsCollapse, nameCheck("NMTOKEN", false, false))
	name := defBuiltin("Name", tok, "", wsCollapse, nameCheck("Name", true, true))
	ncname := defBuiltin("NCName", name, "", wsCollapse, nameCheck("NCName", true, false))
	id := defBuiltin("ID", ncname, "", wsCollapse, nil)
	idref := defBuiltin("IDREF", ncname, "", wsCollapse, nil)
	entity := defBuiltin("ENTITY", ncname, "", wsCollapse, nil)
	defList("NMTOKENS", nmtoken)
	defList("IDREFS", idref)
	defList("ENTITIES", entity)
	_ = id

	defBuiltin("boolean", anySimple, "boolean", wsCollapse, func(s string) (any, error) {
		switch s {
		case "true", "1":
			return true, nil
		case "false", "0":
			return false, nil
		}
		return nil, errors.New("is not a valid boolean (true, false, 1 or 0)")
	})
	dec := defBuiltin("decimal", anySimple, "decimal", wsCollapse, parseDecimal)
	integer := defBuiltin("integer", dec, "", wsCollapse, intRange("integer", nil, nil))
	big0, big1, bigm1 := big.NewInt(0), big.NewInt(1), big.NewInt(-1)
	npi := defBuiltin("nonPositiveInteger", integer, "", wsCollapse, intRange("nonPositiveInteger", nil, big0))
	defBuiltin("negativeInteger", npi, "", wsCollapse, intRange("negativeInteger", nil, bigm1))
	long := defBuiltin("long", integer, "", wsCollapse, intRange("long", big.NewInt(math.MinInt64), big.NewInt(math.MaxInt64)))
	intT := defBuiltin("int", long, "", wsCollapse, intRange("int", big.NewInt(math.MinInt32), big.NewInt(math.MaxInt32)))
	short := defBuiltin("short", intT, "", wsCollapse, intRange("short", big.NewInt(math.MinInt16), big.NewInt(math.MaxInt16)))
	defBuiltin("byte", short, "", wsCollapse, intRange("byte", big.NewInt(math.MinInt8), big.NewInt(math.MaxInt8)))
	nni := defBuiltin("nonNegativeInteger", integer, "", wsCollapse, intRange("nonNegativeInteger", big0, nil))
	maxU64 := new(big.Int).SetUint64(math.MaxUint64)
	ulong := defBuiltin("unsignedLong", nni, "", wsCollapse, intRange("unsignedLong", big0, maxU64))
	uint32T := defBuiltin("unsignedInt", ulong, "", wsCollapse, intRange("unsignedInt", big0, big.NewInt(math.MaxUint32)))
	ushort := defBuiltin("unsignedShort", uint32T, "", wsCollapse, intRange("unsignedShort", big0, big.NewInt(math.MaxUint16)))
	defBuiltin("unsignedByte", ushort, "", wsCollapse, intRange("unsignedByte", big0, big.NewInt(math.MaxUint8)))
	defBuiltin("positiveInteger", nni, "", wsCollapse, intRange("positiveInteger", big1, nil))

	defBuiltin("float", anySimple, "float", wsCollapse, parseFloat("float", 32))
	defBuiltin("double", anySimple, "double", wsCollapse, parseFloat("double", 64))
	defBuiltin("duration", anySimple, "duration", wsCollapse, reCheck("duration", reDuration))
	defBuiltin("dateTime", anySimple, "dateTime", wsCollapse, dateParser("dateTime", reDateTime))
	defBuiltin("time", anySimple, "time", wsCollapse, dateParser("time", reTime))
	defBuiltin("date", anySimple, "date", wsCollapse, dateParser("date", reDate))
	defBuiltin("gYearMonth", anySimple, "gYearMonth", wsCollapse, dateParser("gYearMonth", reGYearMonth))
	defBuiltin("gYear", anySimple, "gYear", wsCollapse, dateParser("gYear", reGYear))
	defBuiltin("gMonthDay", anySimple, "gMonthDay", wsCollapse, dateParser("gMonthDay", reGMonthDay))
	defBuiltin("gDay", anySimple, "gDay", wsCollapse, dateParser("gDay", reGDay))
	defBuiltin("gMonth", anySimple, "gMonth", wsCollapse, dateParser("gMonth", reGMonth))
	defBuiltin("hexBinary", anySimple, "hexBinary", wsCollapse, func(s string) (any, error) {
		if len(s)%2 != 0 {
			return nil, errors.New("is not valid hexBinary (odd number of digits)")
		}
		for i := 0; i < len(s); i++ {
			if !isHex(s[i]) {
				return nil, fmt.Errorf("is not valid hexBinary (character %q)", s[i])
			}
		}
		return s, nil
	})
	defBuiltin("base64Binary", anySimple, "base64Binary", wsCollapse, func(s string) (any, error) {
		var b b64
		b.write(s)
		if err := b.finish(); err != nil {
			return nil, err
		}
		return s, nil
	})
	defBuiltin("anyURI", anySimple, "anyURI", wsCollapse, func(s string) (any, error) { return s, nil })
	defBuiltin("QName", anySimple, "QName", wsCollapse, qnameCheck)
	defBuiltin("NOTATION", anySimple, "NOTATION", wsCollapse, qnameCheck)
}

// defBuiltin registers a built-in atomic type. prim "" inherits base's.
func defBuiltin(name string, base *simpleType, prim string, ws whiteSpace, lex func(string) (any, error)) *simpleType {
	t := &simpleType{name: qname{nsXSD, name}, base: base, prim: prim, ws: ws, lex: lex, builtin: true}
	if base != nil {
		if t.prim == "" {
			t.prim = base.prim
		}
		if t.lex == nil {
			t.lex = base.lex
		}
	}
	builtins[name] = t
	return t
}

// defList registers a built-in list type.
func defList(name string, item *simpleType) {
	builtins[name] = &simpleType{name: qname{nsXSD, name}, variety: list, base: anySimple, prim: "list", item: item, ws: wsCollapse, builtin: true,
		facets: &facets{length: -1, minLength: 1, maxLength: -1, totalDig: -1, fracDig: -1}}
}

var (
	reLanguage   = regexp.MustCompile(`^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$`)
	reDuration   = regexp.MustCompile(`^-?P(?:[0-9]+Y)?(?:[0-9]+M)?(?:[0-9]+D)?(?:T(?:[0-9]+H)?(?:[0-9]+M)?(?:[0-9]+(?:\.[0-9]+)?S)?)?$`)
	tz           = `(Z|[+-][0-9]{2}:[0-9]{2})?`
	reDateTime   = regexp.MustCompile(`^(-?[0-9]{4,})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2}(?:\.[0-9]+)?)` + tz + `$`)
	reTime       = regexp.MustCompile(`^()()()([0-9]{2}):([0-9]{2}):([0-9]{2}(?:\.[0-9]+)?)` + tz + `$`)
	reDate       = regexp.MustCompile(`^(-?[0-9]{4,})-([0-9]{2})-([0-9]{2})()()()` + tz + `$`)
	reGYearMonth = regexp.MustCompile(`^(-?[0-9]{4,})-([0-9]{2})()()()()` + tz + `$`)
	reGYear      = regexp.MustCompile(`^(-?[0-9]{4,})()()()()()` + tz + `$`)
	reGMonthDay  = regexp.MustCompile(`^--()([0-9]{2})-([0-9]{2})()()()` + tz + `$`)
	reGDay       = regexp.MustCompile(`^---()()([0-9]{2})()()()` + tz + `$`)
	reGMonth     = regexp.MustCompile(`^--()([0-9]{2})()()()()` + tz + `$`)
	reDecimal    = regexp.MustCompile(`^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$`)
	reInteger    = regexp.MustCompile(`^[+-]?[0-9]+$`)
	reFloat      = regexp.MustCompile(`^(?:[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|-?INF|NaN)$`)
)

func reCheck(what string, re *regexp.Regexp) func(string) (any, error) {
	return func(s string) (any, error) {
		if !re.MatchString(s) {
			return nil, fmt.Errorf("is not a valid %s", what)
		}
		if what == "duration" && (strings.HasSuffix(s, "P") || strings.HasSuffix(s, "T")) {
			return nil, fmt.Errorf("is not a valid %s", what)
		}
		return s, nil
	}
}

func parseDecimal(s string) (any, error) {
	if !reDecimal.MatchString(s) {
		return nil, errors.New("is not a valid decimal")
	}
	r, ok := new(big.Rat).SetString(strings.TrimPrefix(s, "+"))
	if !ok {
		return nil, errors.New("is not a valid decimal")
	}
	return r, nil
}

func intRange(name string, lo, hi *big.Int) func(string) (any, error) {
	return func(s string) (any, error) {
		if !reInteger.MatchString(s) {
			return nil, fmt.Errorf("is not a valid %s", name)
		}
		i, ok := new(big.Int).SetString(strings.TrimPrefix(s, "+"), 10)
		if !ok {
			return nil, fmt.Errorf("is not a valid %s", name)
		}
		if (lo != nil && i.Cmp(lo) < 0) || (hi != nil && i.Cmp(hi) > 0) {
			return nil, fmt.Errorf("is out of the range of %s", name)
		}
		return new(big.Rat).SetInt(i), nil
	}
}

func parseFloat(name string, bits int) func(string) (any, error) {
	return func(s string) (any, error) {
		if !reFloat.MatchString(s) {
			return nil, fmt.Errorf("is not a valid %s", name)
		}
		switch s {
		case "INF":
			return math.Inf(1), nil
		case "-INF":
			return math.Inf(-1), nil
		case "NaN":
			return math.NaN(), nil
		}
		f, err := strconv.ParseFloat(s, bits)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return nil, fmt.Errorf("is not a valid %s", name)
		}
		return f, nil
	}
}

// dateVal is a date/time value: the instant (UTC when no zone was given)
// and whether a zone was given.
type dateVal struct {
	t    time.Time
	zone bool
}

func dateParser(name string, re *regexp.Regexp) func(string) (any, error) {
	bad := fmt.Errorf("is not a valid %s", name)
	return func(s string) (any, error) {
		m := re.FindStringSubmatch(s)
		if m == nil {
			return nil, bad
		}
		num := func(v string, def int) int {
			if v == "" {
				return def
			}
			n, err := strconv.Atoi(v)
			if err != nil {
				return -1 << 30
			}
			return n
		}
		year, month, day := num(m[1], 2000), num(m[2], 1), num(m[3], 1)
		hour, minute := num(m[4], 0), num(m[5], 0)
		sec := 0.0
		if m[6] != "" {
			sec, _ = strconv.ParseFloat(m[6], 64)
		}
		if m[1] != "" && (year == 0 || year < -(1<<29)) {
			return nil, bad
		}
		if month < 1 || month > 12 || day < 1 || day > daysIn(year, month) {
			return nil, bad
		}
		if m[2] != "" && m[1] == "" && day > daysIn(2000, month) { // gMonthDay allows 02-29
			return nil, bad
		}
		if hour == 24 && minute == 0 && sec == 0 && m[4] != "" {
			// 24:00:00 is allowed and means the start of the next day.
		} else if hour > 23 || minute > 59 || sec >= 60 {
			return nil, bad
		}
		loc := time.UTC
		zone := m[7] != ""
		if zone && m[7] != "Z" {
			h, _ := strconv.Atoi(m[7][1:3])
			mi, _ := strconv.Atoi(m[7][4:6])
			if mi > 59 || h > 14 || (h == 14 && mi > 0) {
				return nil, bad
			}
			off := h*3600 + mi*60
			if m[7][0] == '-' {
				off = -off
			}
			loc = time.FixedZone("", off)
		}
		whole := math.Floor(sec)
		t := time.Date(year, time.Month(month), day, hour, minute, int(whole), int((sec-whole)*1e9), loc)
		return dateVal{t: t.UTC(), zone: zone}, nil
	}
}

func daysIn(year, month int) int {
	switch month {
	case 4, 6, 9, 11:
		return 30
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	}
	return 31
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// isNameStart and isNameChar follow XML 1.0 fifth edition.
func isNameStart(r rune) bool {
	return r == ':' || r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' ||
		r >= 0xC0 && r <= 0xD6 || r >= 0xD8 && r <= 0xF6 || r >= 0xF8 && r <= 0x2FF ||
		r >= 0x370 && r <= 0x37D || r >= 0x37F && r <= 0x1FFF || r >= 0x200C && r <= 0x200D ||
		r >= 0x2070 && r <= 0x218F || r >= 0x2C00 && r <= 0x2FEF || r >= 0x3001 && r <= 0xD7FF ||
		r >= 0xF900 && r <= 0xFDCF || r >= 0xFDF0 && r <= 0xFFFD || r >= 0x10000 && r <= 0xEFFFF
}

func isNameChar(r rune) bool {
	return isNameStart(r) || r == '-' || r == '.' || r >= '0' && r <= '9' || r == 0xB7 ||
		r >= 0x300 && r <= 0x36F || r >= 0x203F && r <= 0x2040
}

func nameCheck(what string, start, colon bool) func(string) (any, error) {
	return func(s string) (any, error) {
		if s == "" {
			return nil, fmt.Errorf("is not a valid %s (empty)", what)
		}
		for i, r := range s {
			if r == utf8.RuneError || (!colon && r == ':') || (i == 0 && start && !isNameStart(r)) || !isNameChar(r) {
				return nil, fmt.Errorf("is not a valid %s", what)
			}
		}
		return s, nil
	}
}

var ncnameLex = nameCheck("NCName", true, false)

func qnameCheck(s string) (any, error) {
	p, l, ok := strings.Cut(s, ":")
	if ok {
		if _, err := ncnameLex(p); err != nil {
			return nil, errors.New("is not a valid QName")
		}
	} else {
		l = p
	}
	if _, err := ncnameLex(l); err != nil {
		return nil, errors.New("is not a valid QName")
	}
	return s, nil
}

// b64 checks base64Binary text incrementally, so a large attachment is
// checked as it streams and never copied.
type b64 struct {
	n       int64 // significant characters seen
	pad     int
	last    byte // last alphabet character before padding
	bad     byte
	badSeen bool
}

func b64Index(c byte) int {
	switch {
	case c >= 'A' && c <= 'Z':
		return int(c - 'A')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 26
	case c >= '0' && c <= '9':
		return int(c-'0') + 52
	case c == '+':
		return 62
	case c == '/':
		return 63
	}
	return -1
}

func (b *b64) write(s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
		case c == '=':
			b.pad++
			b.n++
		case b64Index(c) >= 0:
			if b.pad > 0 && !b.badSeen {
				b.bad, b.badSeen = c, true
			}
			b.last = c
			b.n++
		default:
			if !b.badSeen {
				b.bad, b.badSeen = c, true
			}
		}
	}
}

func (b *b64) writeBytes(p []byte) {
	// Same as write without converting to a string.
	for len(p) > 0 {
		k := len(p)
		if k > 4096 {
			k = 4096
		}
		b.write(string(p[:k]))
		p = p[k:]
	}
}

// octets is the decoded length.
func (b *b64) octets() int64 { return b.n/4*3 - int64(b.pad) }

func (b *b64) finish() error {
	switch {
	case b.badSeen && b.pad > 0 && b64Index(b.bad) >= 0:
		return errors.New("is not valid base64Binary (data after padding)")
	case b.badSeen:
		return fmt.Errorf("is not valid base64Binary (character %q)", b.bad)
	case b.n%4 != 0:
		return errors.New("is not valid base64Binary (length not a multiple of 4)")
	case b.pad > 2:
		return errors.New("is not valid base64Binary (too much padding)")
	case b.pad == 2 && b64Index(b.last)&0xF != 0, b.pad == 1 && b64Index(b.last)&0x3 != 0:
		return errors.New("is not valid base64Binary (non-zero bits before padding)")
	}
	return nil
}
