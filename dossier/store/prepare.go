package store

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/aiskao/aiskao/dossier/calendar"
)

// Prepare checks c and fills what the store assigns: each event's Stream and Seq, the
// summary's Stream and Version, and the outbox messages' missing IDs, in copies: the caller's
// slices and summary are left as they were. Stores call it first.
func Prepare(c *Commit) error {
	c.Events, c.Outbox = slices.Clone(c.Events), slices.Clone(c.Outbox)
	if c.Summary != nil {
		m := *c.Summary
		c.Summary = &m
	}
	if c.Stream == "" && (len(c.Events) > 0 || c.Summary != nil || len(c.Keys) > 0 || len(c.Outbox) > 0) {
		return fmt.Errorf("%w: commit without a stream", ErrInvalid)
	}
	if c.Stream == "" && c.Inbox == "" {
		return fmt.Errorf("%w: empty commit", ErrInvalid)
	}
	if c.Expect < 0 {
		return fmt.Errorf("%w: stream %q: expected version %d", ErrInvalid, c.Stream, c.Expect)
	}
	if c.Expect == 0 && c.Stream != "" && len(c.Events) == 0 {
		return fmt.Errorf("%w: stream %q: a new stream starts with an event", ErrInvalid, c.Stream)
	}
	for i := range c.Events {
		e := &c.Events[i]
		if e.Stream != "" && e.Stream != c.Stream {
			return fmt.Errorf("%w: event %d of stream %q names stream %q", ErrInvalid, i, c.Stream, e.Stream)
		}
		seq := c.Expect + int64(i) + 1
		if e.Seq != 0 && e.Seq != seq {
			return fmt.Errorf("%w: event %d of stream %q has seq %d, want %d", ErrInvalid, i, c.Stream, e.Seq, seq)
		}
		if e.Type == "" {
			return fmt.Errorf("%w: event %d of stream %q has no type", ErrInvalid, i, c.Stream)
		}
		e.Stream, e.Seq, e.At = c.Stream, seq, e.At.Truncate(time.Microsecond)
		if len(e.Data) == 0 {
			e.Data = []byte("null")
		} else if !json.Valid(e.Data) {
			return fmt.Errorf("%w: event %d of stream %q: data is not JSON", ErrInvalid, i, c.Stream)
		}
	}
	if s := c.Summary; s != nil {
		if s.Stream != "" && s.Stream != c.Stream {
			return fmt.Errorf("%w: summary of stream %q names stream %q", ErrInvalid, c.Stream, s.Stream)
		}
		s.Stream = c.Stream
		s.Version = c.Version()
		if s.NextDue.IsZero() {
			s.NextDue = s.Deadline
		}
		s.OpenedAt, s.UpdatedAt = s.OpenedAt.Truncate(time.Microsecond), s.UpdatedAt.Truncate(time.Microsecond)
		if s.UpdatedAt.IsZero() && len(c.Events) > 0 {
			s.UpdatedAt = c.Events[len(c.Events)-1].At
		}
		if len(s.Data) == 0 {
			s.Data = []byte("null")
		} else if !json.Valid(s.Data) {
			return fmt.Errorf("%w: summary of stream %q: data is not JSON", ErrInvalid, c.Stream)
		}
	}
	for i := range c.Outbox {
		if c.Outbox[i].ID == "" {
			id, err := uuid.NewV7()
			if err != nil {
				return fmt.Errorf("dossier store: message id: %w", err)
			}
			c.Outbox[i].ID = id.String()
		}
	}
	for _, k := range c.Keys {
		if k.Kind == "" || k.Value == "" {
			return fmt.Errorf("%w: stream %q: key %q=%q has an empty part", ErrInvalid, c.Stream, k.Kind, k.Value)
		}
	}
	return nil
}

// Version returns the stream's version once c is committed.
func (c *Commit) Version() int64 { return c.Expect + int64(len(c.Events)) }

// noDeadline stands for a zero deadline in the stores' columns, so that the dashboard's order
// and cursor need no NULL handling and such rows sort last.
const noDeadline = "9999-12-31"

// DateColumn returns d as stored: YYYY-MM-DD, with the zero date as 9999-12-31.
func DateColumn(d calendar.Date) string {
	if d.IsZero() {
		return noDeadline
	}
	return d.String()
}

// ParseDateColumn reads a date written by DateColumn.
func ParseDateColumn(s string) (calendar.Date, error) {
	if s == noDeadline || s == "" {
		return calendar.Date{}, nil
	}
	return calendar.ParseDate(s)
}

// Normalize checks q and applies the default limit.
func (q *Query) Normalize() error {
	if q.By != ByDeadline && q.By != ByNextDue {
		return fmt.Errorf("%w: order %q", ErrInvalid, q.By)
	}
	switch {
	case q.Limit == 0:
		q.Limit = DefaultLimit
	case q.Limit < 0 || q.Limit > MaxLimit:
		return fmt.Errorf("%w: limit %d, want 1 to %d", ErrInvalid, q.Limit, MaxLimit)
	}
	return nil
}

// Column is the summaries' column of the date o names.
func (o Order) Column() string {
	if o == ByNextDue {
		return "next_due"
	}
	return "deadline"
}

// date is the date of s that o names.
func (o Order) date(s Summary) calendar.Date {
	if o == ByNextDue {
		return s.NextDue
	}
	return s.Deadline
}

// Cursor is a position in the dashboard's order.
type Cursor struct {
	Deadline string // the date of the order's column, as DateColumn writes it
	Stream   string
}

// EncodeCursor returns the cursor after s in order by, for Page.Next. A cursor of the next due
// order is marked as such, so that it is not taken for one of the deadline order.
func EncodeCursor(s Summary, by Order) string {
	prefix := ""
	if by == ByNextDue {
		prefix = "n|"
	}
	return base64.RawURLEncoding.EncodeToString([]byte(prefix + DateColumn(by.date(s)) + "|" + s.Stream))
}

// DecodeCursor reads a cursor from EncodeCursor of the order by; a cursor of another order is
// ErrInvalid.
func DecodeCursor(s string, by Order) (Cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, fmt.Errorf("%w: cursor %q", ErrInvalid, s)
	}
	rest, marked := strings.CutPrefix(string(b), "n|")
	d, stream, ok := strings.Cut(rest, "|")
	if _, perr := ParseDateColumn(d); !ok || perr != nil || marked != (by == ByNextDue) {
		return Cursor{}, fmt.Errorf("%w: cursor %q", ErrInvalid, s)
	}
	return Cursor{Deadline: d, Stream: stream}, nil
}

// PageOf returns the page of q from rows fetched with a limit of q.Limit+1: the extra row only
// says that another page follows.
func PageOf(rows []Summary, q Query) Page {
	if len(rows) <= q.Limit {
		return Page{Items: rows}
	}
	rows = rows[:q.Limit]
	return Page{Items: rows, Next: EncodeCursor(rows[len(rows)-1], q.By)}
}
