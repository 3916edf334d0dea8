package xml

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// member is one key of a JSON object; object keeps the keys in the order of the JSON text, which
// a Go map would lose.
type member struct {
	key string
	val any
}

type object []member

// decodeOrdered decodes one JSON value, objects as object, arrays as []any, numbers as json.Number.
func decodeOrdered(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the top-level value")
	}
	return v, nil
}

func decodeValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return tok, nil
	}
	switch d {
	case '{':
		var o object
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return nil, err
			}
			v, err := decodeValue(dec)
			if err != nil {
				return nil, err
			}
			o = append(o, member{k.(string), v})
		}
		_, err := dec.Token() // '}'
		return o, err
	case '[':
		a := []any{}
		for dec.More() {
			v, err := decodeValue(dec)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
		_, err := dec.Token() // ']'
		return a, err
	}
	return nil, fmt.Errorf("unexpected %v", d)
}

// xmlWriter writes JSON in the package's convention as XML; errors name the JSON pointer of the
// value that has no XML form.
type xmlWriter struct {
	b    bytes.Buffer
	path []string
}

func (w *xmlWriter) pointer() string {
	if len(w.path) == 0 {
		return "/"
	}
	var sb strings.Builder
	for _, p := range w.path {
		sb.WriteByte('/')
		sb.WriteString(strings.NewReplacer("~", "~0", "/", "~1").Replace(p))
	}
	return sb.String()
}

func (w *xmlWriter) errorf(format string, args ...any) error {
	return fmt.Errorf("%s: %s", w.pointer(), fmt.Sprintf(format, args...))
}

// element writes v as the content of elements called name: one element, or one per item when v
// is an array.
func (w *xmlWriter) element(name string, v any) error {
	if !validName(name) {
		return w.errorf("%q is not a valid XML element name", name)
	}
	switch v := v.(type) {
	case nil:
		return nil
	case []any:
		for i, item := range v {
			if _, nested := item.([]any); nested {
				w.path = append(w.path, strconv.Itoa(i))
				err := w.errorf("an array directly inside an array has no XML form")
				w.path = w.path[:len(w.path)-1]
				return err
			}
			w.path = append(w.path, strconv.Itoa(i))
			err := w.single(name, item)
			w.path = w.path[:len(w.path)-1]
			if err != nil {
				return err
			}
		}
		return nil
	}
	return w.single(name, v)
}

func (w *xmlWriter) single(name string, v any) error {
	switch v := v.(type) {
	case nil:
		return nil
	case object:
		return w.objectElement(name, v)
	}
	s, ok := scalar(v)
	if !ok {
		return w.errorf("unexpected JSON value %T", v)
	}
	w.b.WriteByte('<')
	w.b.WriteString(name)
	if s == "" {
		w.b.WriteString("/>")
		return nil
	}
	w.b.WriteByte('>')
	escapeText(&w.b, s)
	w.b.WriteString("</")
	w.b.WriteString(name)
	w.b.WriteByte('>')
	return nil
}

func (w *xmlWriter) objectElement(name string, o object) error {
	w.b.WriteByte('<')
	w.b.WriteString(name)
	text, content := "", false
	for _, m := range o {
		switch {
		case strings.HasPrefix(m.key, "@"):
			w.path = append(w.path, m.key)
			an := m.key[1:]
			s, ok := scalar(m.val)
			switch {
			case !validName(an):
				return w.errorf("%q is not a valid XML attribute name", an)
			case !ok:
				return w.errorf("an attribute must be a string, a number or a boolean")
			}
			w.path = w.path[:len(w.path)-1]
			if m.val == nil {
				continue
			}
			w.b.WriteByte(' ')
			w.b.WriteString(an)
			w.b.WriteString(`="`)
			escapeAttr(&w.b, s)
			w.b.WriteByte('"')
		case m.key == "#text":
			s, ok := scalar(m.val)
			if !ok {
				w.path = append(w.path, m.key)
				return w.errorf("#text must be a string, a number or a boolean")
			}
			text = s
		default:
			content = true
		}
	}
	if !content && text == "" {
		w.b.WriteString("/>")
		return nil
	}
	w.b.WriteByte('>')
	escapeText(&w.b, text)
	for _, m := range o {
		if strings.HasPrefix(m.key, "@") || m.key == "#text" {
			continue
		}
		w.path = append(w.path, m.key)
		if err := w.element(m.key, m.val); err != nil {
			return err
		}
		w.path = w.path[:len(w.path)-1]
	}
	w.b.WriteString("</")
	w.b.WriteString(name)
	w.b.WriteByte('>')
	return nil
}

// scalar returns the text of a JSON leaf; null is "".
func scalar(v any) (string, bool) {
	switch v := v.(type) {
	case nil:
		return "", true
	case string:
		return v, true
	case json.Number:
		return string(v), true
	case bool:
		return strconv.FormatBool(v), true
	}
	return "", false
}

// validName reports whether s is an XML name, optionally with one prefix ("p:local").
func validName(s string) bool {
	if s == "" {
		return false
	}
	local := s
	if p, l, ok := strings.Cut(s, ":"); ok {
		if !validNCName(p) {
			return false
		}
		local = l
	}
	return validNCName(local)
}

func validNCName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || unicode.IsLetter(r):
		case i > 0 && (r == '-' || r == '.' || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || r == '\u00B7'):
		default:
			return false
		}
	}
	return true
}

// escapeText writes s as XML character data.
func escapeText(b *bytes.Buffer, s string) {
	escape(b, s, false)
}

// escapeAttr writes s as an attribute value between double quotes.
func escapeAttr(b *bytes.Buffer, s string) {
	escape(b, s, true)
}

func escape(b *bytes.Buffer, s string, attr bool) {
	start := 0
	for i := 0; i < len(s); i++ {
		var rep string
		switch s[i] {
		case '&':
			rep = "&amp;"
		case '<':
			rep = "&lt;"
		case '>':
			rep = "&gt;"
		case '"':
			if !attr {
				continue
			}
			rep = "&quot;"
		case '\n', '\r', '\t':
			// In attributes they would be normalised to spaces by a reader.
			if !attr && s[i] != '\r' {
				continue
			}
			rep = "&#x" + strconv.FormatInt(int64(s[i]), 16) + ";"
		default:
			if s[i] < 0x20 {
				// Not allowed in XML 1.0 at all; replace rather than write a broken document.
				rep = string(utf8.RuneError)
				break
			}
			continue
		}
		b.WriteString(s[start:i])
		b.WriteString(rep)
		start = i + 1
	}
	b.WriteString(s[start:])
}
