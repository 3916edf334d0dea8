package web

import (
	"net/url"
	"strconv"
)

// The components' data. Every text in them is already in the page's language (Tr.T); the
// templates of the same names in templates/components.html draw them.

// Field is one question of a form: a label, an optional hint, the error beside it after a failed
// submit, and the value given. Its ID is what the error summary links to.
type Field struct {
	Name  string
	Label string
	Hint  string
	Error string
	Value string
	// Type is text (the default), email, tel, date, search, textarea, select, radios or checkbox.
	Type         string
	Autocomplete string
	Options      []Option
	// ErrorPrefix is the hidden "Error:" a screen reader says before the error; Form sets it.
	ErrorPrefix string
	// Width is a CSS class choosing the input's width: w-s, w-m, w-l (default full).
	Width string
}

// ID is the field's element id: what its label names and the error summary links to. Radios
// link to their first option.
func (f Field) ID() string {
	if f.Type == "radios" && len(f.Options) > 0 {
		return "f-" + f.Name + "-0"
	}
	return "f-" + f.Name
}

// Option is one choice of a radios or select field.
type Option struct {
	Value string
	Label string
}

// Form is a question page's fields; Errors lists the fields with an error, in page order, for
// the error summary.
type Form struct {
	Action string
	Fields []Field
	Submit string
	// ErrorTitle heads the error summary; ErrorPrefix goes (hidden) before each field's error.
	ErrorTitle, ErrorPrefix string
}

// NewForm returns a form posting to action with a button saying submit, its error words in
// tr's language.
func NewForm(tr Tr, action, submit string, fields ...Field) Form {
	return Form{Action: action, Fields: fields, Submit: submit,
		ErrorTitle: tr.T("error.summary"), ErrorPrefix: tr.T("error.prefix")}
}

// Items returns the fields ready to draw, each with the form's error prefix.
func (f Form) Items() []Field {
	out := make([]Field, len(f.Fields))
	for i, fl := range f.Fields {
		fl.ErrorPrefix = f.ErrorPrefix
		out[i] = fl
	}
	return out
}

// Value returns the value of the field named name.
func (f Form) Value(name string) string {
	for _, fl := range f.Fields {
		if fl.Name == name {
			return fl.Value
		}
	}
	return ""
}

// Errors returns the fields with an error, in order.
func (f Form) Errors() []Field {
	var out []Field
	for _, fl := range f.Fields {
		if fl.Error != "" {
			out = append(out, fl)
		}
	}
	return out
}

// Valid reports whether no field has an error.
func (f Form) Valid() bool { return len(f.Errors()) == 0 }

// Set sets the error of the field named name.
func (f *Form) Set(name, msg string) {
	for i := range f.Fields {
		if f.Fields[i].Name == name {
			f.Fields[i].Error = msg
		}
	}
}

// SummaryRow is one row of a summary list (check answers, a dossier's summary): a key, its value
// and an optional link to change it.
type SummaryRow struct {
	Key, Value string
	ChangeURL  string
	// ChangeLabel is the link's word ("Change"); the key follows it, hidden, for screen readers.
	ChangeLabel string
}

// Task is one item of a task list, with its status.
type Task struct {
	Label string
	URL   string
	Hint  string
	// Status is done, progress, todo or blocked; StatusLabel says it in the page's language.
	Status, StatusLabel string
}

// Banner is a notification banner: Kind info (the default), success or warning.
type Banner struct {
	Kind, Title, Heading, Body string
}

// Panel is the confirmation panel: what was done and its reference number.
type Panel struct {
	Title, Body, Ref string
}

// Table is a table whose columns sort by links: the server sorts; the links carry sort and dir.
type Table struct {
	Caption string
	Columns []Column
	Rows    [][]string
	// Sort is the key of the column sorted by; Desc is its direction.
	Sort string
	Desc bool
	// Base holds the page's query (filters, language) that sorting links keep.
	Base url.Values
}

// Column is a table heading; a column with a Key sorts.
type Column struct {
	Key, Label string
	Numeric    bool
}

// SortURL returns the address sorting by column key: ascending, or descending when it already
// sorts ascending. The page number is dropped (page 1 of the new order).
func (t Table) SortURL(key string) string {
	q := clone(t.Base)
	q.Del("page")
	q.Set("sort", key)
	if t.Sort == key && !t.Desc {
		q.Set("dir", "desc")
	} else {
		q.Del("dir")
	}
	return "?" + q.Encode()
}

// AriaSort returns the aria-sort value of column key.
func (t Table) AriaSort(key string) string {
	switch {
	case t.Sort != key:
		return "none"
	case t.Desc:
		return "descending"
	}
	return "ascending"
}

// Pagination is the links to the pages of a long list.
type Pagination struct {
	Page, Pages int
	Base        url.Values
	Prev, Next  string // the words, in the page's language
	Label       string // the navigation's name
}

// PageLink is one link of a pagination.
type PageLink struct {
	N       int
	URL     string
	Current bool
}

// URL returns the address of page n.
func (p Pagination) URL(n int) string {
	q := clone(p.Base)
	q.Set("page", strconv.Itoa(n))
	return "?" + q.Encode()
}

// PrevURL returns the address of the page before.
func (p Pagination) PrevURL() string { return p.URL(p.Page - 1) }

// NextURL returns the address of the page after.
func (p Pagination) NextURL() string { return p.URL(p.Page + 1) }

// Links returns a link for every page (lists here are short; an ellipsis is for later).
func (p Pagination) Links() []PageLink {
	out := make([]PageLink, 0, p.Pages)
	for n := 1; n <= p.Pages; n++ {
		out = append(out, PageLink{N: n, URL: p.URL(n), Current: n == p.Page})
	}
	return out
}

func clone(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
