// Package filename makes the names under which sinks write files: a name template with {{id}}
// (the message id), {{meta "key"}} (a metadata value) and {{ext}} (.xml, .json or .bin from the
// content type), run for each message and made a safe base name. The sinks that write files
// (file, sftp) share it; it knows nothing of where they write.
package filename

import (
	"errors"
	"fmt"
	"mime"
	"strings"
	"text/template"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/envelope"
)

// Default is the template that names a file by its message id and extension; it is made
// without running a template.
const Default = "{{id}}{{ext}}"

// Template is a parsed name template.
type Template struct {
	text string
	t    *template.Template // nil for Default
}

// Parse parses a name template, refusing an empty or malformed one.
func Parse(text string) (*Template, error) {
	if strings.TrimSpace(text) == "" {
		return nil, errors.New("the template is empty")
	}
	t, err := template.New("name").Option("missingkey=zero").Funcs(funcs(nil, "")).Parse(text)
	if err != nil {
		return nil, fmt.Errorf("template %q: %v", text, strings.TrimPrefix(err.Error(), "template: name:"))
	}
	if text == Default {
		t = nil
	}
	return &Template{text: text, t: t}, nil
}

// Name runs the template for msg and makes a safe base name of the result: path separators and
// control characters become "_". A name that is empty, "." or "..", or longer than 255 bytes is
// an error naming the template; with noDot, so is one starting with "." (the sink's temporary
// names do).
func (t *Template) Name(msg *message.Message, noDot bool) (string, error) {
	ext := Extension(msg.Metadata.Get(envelope.ContentType))
	var raw string
	if t.t == nil {
		raw = msg.UUID + ext
	} else {
		var b strings.Builder
		run := template.Must(t.t.Clone()).Funcs(funcs(msg, ext)) // Clone fails only after Execute
		if err := run.Execute(&b, nil); err != nil {
			return "", fmt.Errorf("name template %q for message %s: %w", t.text, msg.UUID, err)
		}
		raw = b.String()
	}
	name := strings.TrimSpace(strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r < 0x20 || r == 0x7f {
			return '_'
		}
		return r
	}, raw))
	switch {
	case name == "" || name == "." || name == ".." || (noDot && strings.HasPrefix(name, ".")):
		why := "not a file name"
		if noDot {
			why += " (names starting with . are temporary)"
		}
		return "", fmt.Errorf("name template %q gave %q for message %s: %s", t.text, raw, msg.UUID, why)
	case len(name) > 255:
		return "", fmt.Errorf("name template %q gave a name of %d bytes for message %s; at most 255 fit", t.text, len(name), msg.UUID)
	}
	return name, nil
}

// funcs are the functions of name templates, bound to one message; msg is nil when a template
// is only parsed.
func funcs(msg *message.Message, ext string) template.FuncMap {
	return template.FuncMap{
		"id": func() string {
			if msg == nil {
				return ""
			}
			return msg.UUID
		},
		"meta": func(key string) string {
			if msg == nil {
				return ""
			}
			return msg.Metadata.Get(key)
		},
		"ext": func() string { return ext },
	}
}

// Extension returns the file extension for a content type.
func Extension(contentType string) string {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		return ".json"
	case mt == "application/xml" || mt == "text/xml" || strings.HasSuffix(mt, "+xml"):
		return ".xml"
	}
	return ".bin"
}
