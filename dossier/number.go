package dossier

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aiskao/aiskao/dossier/calendar"
)

// Numbering formats registration numbers by an administration's pattern.
//
// A pattern is literal text with placeholders in braces:
//
//	{index}        the register index of the service, such as ОБА3
//	{seq}          the sequence number in the register, as it is
//	{seq:6}        the sequence number padded with zeros to 6 digits
//	{date:LAYOUT}  the registration date in a Go layout, such as {date:02.01.2006}
//	{year}         the year of registration, such as 2026
//
// The pattern must hold {seq} exactly once, so that numbers differ. For
// example "{index}-{seq}/{date:02.01.2006}" gives "ОБА3-17/05.12.2026".
type Numbering struct {
	pattern string
	parts   []part
}

type part struct {
	literal string
	kind    string // "", "index", "seq", "date", "year"
	arg     string // padding width or date layout
}

// DefaultNumbering is the pattern used when an administration sets none.
const DefaultNumbering = "{index}-{seq}/{date:02.01.2006}"

// ParseNumbering reads a numbering pattern and says what is wrong with it.
func ParseNumbering(pattern string) (Numbering, error) {
	n := Numbering{pattern: pattern}
	seqs := 0
	rest := pattern
	for rest != "" {
		open := strings.IndexAny(rest, "{}")
		if open < 0 {
			n.parts = append(n.parts, part{literal: rest})
			break
		}
		if rest[open] == '}' {
			return Numbering{}, fmt.Errorf("dossier: numbering %q: a } without its {", pattern)
		}
		if open > 0 {
			n.parts = append(n.parts, part{literal: rest[:open]})
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return Numbering{}, fmt.Errorf("dossier: numbering %q: a { without its }", pattern)
		}
		body := rest[open+1 : open+end]
		rest = rest[open+end+1:]
		name, arg, hasArg := strings.Cut(body, ":")
		p := part{kind: name, arg: arg}
		switch name {
		case "index", "year":
			if hasArg {
				return Numbering{}, fmt.Errorf("dossier: numbering %q: {%s} takes no argument", pattern, name)
			}
		case "seq":
			seqs++
			if hasArg {
				w, err := strconv.Atoi(arg)
				if err != nil || w < 1 || w > 18 {
					return Numbering{}, fmt.Errorf("dossier: numbering %q: {seq:%s}: the width must be a number from 1 to 18", pattern, arg)
				}
			}
		case "date":
			if !hasArg || arg == "" {
				return Numbering{}, fmt.Errorf("dossier: numbering %q: {date} needs a layout, such as {date:02.01.2006}", pattern)
			}
			if time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC).Format(arg) == arg {
				return Numbering{}, fmt.Errorf("dossier: numbering %q: {date:%s} holds no part of a date; write it with 2006, 01, 02", pattern, arg)
			}
		default:
			return Numbering{}, fmt.Errorf("dossier: numbering %q: unknown placeholder {%s}; use {index}, {seq}, {seq:WIDTH}, {date:LAYOUT} or {year}", pattern, body)
		}
		n.parts = append(n.parts, p)
	}
	if seqs != 1 {
		return Numbering{}, fmt.Errorf("dossier: numbering %q: must hold {seq} once, so that numbers differ; it holds it %d times", pattern, seqs)
	}
	return n, nil
}

// String returns the pattern.
func (n Numbering) String() string { return n.pattern }

// Format is the registration number of the seq-th dossier of register index,
// registered on the date on.
func (n Numbering) Format(index string, seq int64, on calendar.Date) string {
	var b strings.Builder
	for _, p := range n.parts {
		switch p.kind {
		case "":
			b.WriteString(p.literal)
		case "index":
			b.WriteString(index)
		case "seq":
			if p.arg != "" {
				w, _ := strconv.Atoi(p.arg)
				fmt.Fprintf(&b, "%0*d", w, seq)
			} else {
				b.WriteString(strconv.FormatInt(seq, 10))
			}
		case "date":
			b.WriteString(on.Time(time.UTC).Format(p.arg))
		case "year":
			fmt.Fprintf(&b, "%04d", on.Year)
		}
	}
	return b.String()
}
