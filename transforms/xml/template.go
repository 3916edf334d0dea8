package xml

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"text/template"
	"text/template/parse"

	"github.com/aiskao/aiskao/envelope"
	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/transforms"
)

func init() {
	transforms.Register(transforms.Factory{
		Name: "xml_template",
		Doc: "Builds the XML payload from a Go text/template. The template sees .meta (the metadata) and " +
			".body (the JSON payload, nil when the payload is not JSON). Every value an action inserts is " +
			"escaped for XML (& < > \" '), so data can never break the document; wrap a value in raw to " +
			"insert it as XML unchanged. The output must be well-formed XML, and is parsed once for the " +
			"steps that follow.",
		Config: &TemplateOptions{},
		New:    newTemplate,
	})
}

// TemplateOptions configures xml_template; exactly one of template and file is set.
type TemplateOptions struct {
	Template string `yaml:"template" doc:"The template text, inline." example:"<Ack><Subject>{{.meta.subject}}</Subject></Ack>"`
	File     string `yaml:"file" doc:"File holding the template, relative to the configuration file." example:"templates/ack.xml.tmpl"`
}

// Validate checks that exactly one source is set and that an inline template parses.
func (o *TemplateOptions) Validate() error {
	switch {
	case o.Template == "" && o.File == "":
		return spec.FieldErrorf("template", "set template or file")
	case o.Template != "" && o.File != "":
		return spec.FieldErrorf("file", "set template or file, not both")
	case o.Template != "":
		if _, err := parseTemplate("template", o.Template); err != nil {
			return spec.FieldErrorf("template", "%v", err)
		}
	}
	return nil
}

// raw marks a value inserted without escaping.
type raw string

var templateFuncs = template.FuncMap{
	"raw":      func(v any) raw { return raw(fmt.Sprint(v)) },
	escapeFunc: escapeValue,
}

// escapeFunc is appended to every action's pipeline; the name cannot be written in a template.
const escapeFunc = "_xml_escape"

func escapeValue(v any) string {
	var b bytes.Buffer
	switch v := v.(type) {
	case nil:
		return ""
	case raw:
		return string(v)
	case string:
		escapeAll(&b, v)
	default:
		escapeAll(&b, fmt.Sprint(v))
	}
	return b.String()
}

// escapeAll escapes for element text and for attribute values in either kind of quotes.
func escapeAll(b *bytes.Buffer, s string) {
	var e bytes.Buffer
	escapeAttr(&e, s)
	for _, c := range e.Bytes() {
		if c == '\'' {
			b.WriteString("&#39;")
		} else {
			b.WriteByte(c)
		}
	}
}

// parseTemplate parses text and makes every action escape what it inserts, as html/template does
// for HTML: the escaping function is added at the end of each action's pipeline.
func parseTemplate(name, text string) (*template.Template, error) {
	t, err := template.New(name).Funcs(templateFuncs).Option("missingkey=zero").Parse(text)
	if err != nil {
		return nil, err
	}
	for _, tt := range t.Templates() {
		if tt.Tree != nil {
			addEscaping(tt.Tree.Root)
		}
	}
	return t, nil
}

func addEscaping(n parse.Node) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			addEscaping(c)
		}
	case *parse.ActionNode:
		if len(n.Pipe.Decl) > 0 {
			return // {{$x := ...}} prints nothing
		}
		n.Pipe.Cmds = append(n.Pipe.Cmds, &parse.CommandNode{
			NodeType: parse.NodeCommand,
			Pos:      n.Pos,
			Args:     []parse.Node{parse.NewIdentifier(escapeFunc).SetPos(n.Pos)},
		})
	case *parse.IfNode:
		addEscaping(n.List)
		addEscaping(n.ElseList)
	case *parse.RangeNode:
		addEscaping(n.List)
		addEscaping(n.ElseList)
	case *parse.WithNode:
		addEscaping(n.List)
		addEscaping(n.ElseList)
	}
}

// usesBody reports whether the template may read .body. A bare dot or $ may stand for the whole
// data, so it counts too.
func usesBody(t *template.Template) bool {
	found := false
	var walk func(n parse.Node)
	walk = func(n parse.Node) {
		if found || n == nil {
			return
		}
		switch n := n.(type) {
		case *parse.ListNode:
			if n == nil {
				return
			}
			for _, c := range n.Nodes {
				walk(c)
			}
		case *parse.ActionNode:
			walk(n.Pipe)
		case *parse.PipeNode:
			if n == nil {
				return
			}
			for _, c := range n.Cmds {
				walk(c)
			}
		case *parse.CommandNode:
			for _, a := range n.Args {
				walk(a)
			}
		case *parse.FieldNode:
			found = n.Ident[0] == "body"
		case *parse.VariableNode:
			found = n.Ident[0] == "$" && (len(n.Ident) == 1 || n.Ident[1] == "body")
		case *parse.DotNode:
			found = true
		case *parse.ChainNode:
			walk(n.Node)
		case *parse.IfNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.RangeNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.WithNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.TemplateNode:
			walk(n.Pipe)
		}
	}
	for _, tt := range t.Templates() {
		if tt.Tree != nil {
			walk(tt.Tree.Root)
		}
	}
	return found
}

type templateStep struct {
	t        *template.Template
	usesBody bool
}

func newTemplate(cfg any, env transforms.Env) (transforms.Step, error) {
	o := cfg.(*TemplateOptions)
	if err := spec.Validate(o); err != nil {
		return nil, err
	}
	name, text := "template", o.Template
	if o.File != "" {
		path := o.File
		if !filepath.IsAbs(path) {
			path = filepath.Join(env.BaseDir, path)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, spec.FieldErrorf("file", "cannot read the template: %v", errors.Unwrap(err))
		}
		name, text = o.File, string(b)
	}
	t, err := parseTemplate(name, text)
	if err != nil {
		field := "template"
		if o.File != "" {
			field = "file"
		}
		return nil, spec.FieldErrorf(field, "%v", err)
	}
	return &templateStep{t: t, usesBody: usesBody(t)}, nil
}

// Apply executes the template and parses its output, which both checks it and leaves the parsed
// document for the next XML step.
func (s *templateStep) Apply(_ context.Context, m *transforms.Message) error {
	data := map[string]any{"meta": m.Metadata, "body": nil}
	if s.usesBody {
		if v, err := m.JSON(); err == nil {
			data["body"] = v
		}
	}
	var b bytes.Buffer
	if err := s.t.Execute(&b, data); err != nil {
		return fmt.Errorf("xml_template: %w", err)
	}
	m.SetPayload(b.Bytes())
	m.Metadata[envelope.ContentType] = "application/xml"
	if _, err := m.XML(); err != nil {
		return fmt.Errorf("xml_template: output: %w", err)
	}
	return nil
}
