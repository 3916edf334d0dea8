package regix

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"strings"

	"github.com/aiskao/aiskao/internal/xmllimit"
)

// syntaxAt names where a document that is not well-formed XML breaks, as
// "line N: /Root/…/Element: ", the element being the one open at the first
// syntax error (the property register's samples in windows-1251 break in the
// text of an element, which this names). It is empty when err is no syntax
// error or no element was open.
func syntaxAt(doc []byte, err error) string {
	var se *xml.SyntaxError
	if !errors.As(err, &se) {
		return ""
	}
	// The same bounded reading that found the error: the path cannot grow
	// beyond the depth limit.
	d := xmllimit.NewDecoder(bytes.NewReader(doc), xmllimit.Limits{})
	var path []string
	for {
		t, err := d.Token()
		if err != nil {
			if len(path) == 0 || !errors.As(err, &se) {
				return ""
			}
			return fmt.Sprintf("line %d: /%s: ", se.Line, strings.Join(path, "/"))
		}
		switch t := t.(type) {
		case xml.StartElement:
			path = append(path, t.Name.Local)
		case xml.EndElement:
			path = path[:len(path)-1]
		}
	}
}
