package xml

import (
	"context"
	"testing"

	"github.com/aiskao/aiskao/envelope"
	"github.com/aiskao/aiskao/transforms"
	"github.com/aiskao/aiskao/transforms/transformstest"
)

func TestTemplateOptions(t *testing.T) {
	checkOptions(t, "xml_template", transforms.Env{BaseDir: "testdata"}, []optionCase[TemplateOptions]{
		{name: "good inline", opts: TemplateOptions{Template: "<a>{{.meta.x}}</a>"}},
		{name: "good file", opts: TemplateOptions{File: "templates/ack.xml.tmpl"}},
		{name: "none", opts: TemplateOptions{}, want: "template: set template or file"},
		{name: "both", opts: TemplateOptions{Template: "<a/>", File: "a.tmpl"}, want: "file: set template or file, not both"},
		{name: "parse error", opts: TemplateOptions{Template: "<a>{{.meta.x"}, want: `template: template: template:1: unclosed action`},
		{name: "unknown function", opts: TemplateOptions{Template: "<a>{{upper .meta.x}}</a>"}, want: `template: template: template:1: function "upper" not defined`},
		{name: "missing file", opts: TemplateOptions{File: "templates/none.tmpl"}, want: "file: cannot read the template: no such file or directory"},
	})
}

func TestTemplate(t *testing.T) {
	tests := []struct {
		name    string
		opts    TemplateOptions
		meta    map[string]string
		in      string
		want    string
		wantErr string
	}{
		{
			name: "file with metadata and body, every value escaped",
			opts: TemplateOptions{File: "templates/ack.xml.tmpl"},
			meta: map[string]string{"subject": `97-0056 "A" & <B>`},
			in:   `{"items":[{"code":"1","name":"Удостоверение <за> наследници & другите"},{"code":"x'\"y","name":"]]>"}]}`,
			want: `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
				`<Ack xmlns="urn:aiskao:ack" subject="97-0056 &quot;A&quot; &amp; &lt;B&gt;">` + "\n" +
				`  <Item code="1">Удостоверение &lt;за&gt; наследници &amp; другите</Item>` + "\n" +
				`  <Item code="x&#39;&quot;y">]]&gt;</Item>` + "\n" +
				"</Ack>\n",
		},
		{
			name: "attribute in single quotes",
			opts: TemplateOptions{Template: `<a v='{{.meta.v}}'/>`},
			meta: map[string]string{"v": `it's`},
			want: `<a v='it&#39;s'/>`,
		},
		{
			name: "raw inserts XML",
			opts: TemplateOptions{Template: `<a>{{raw .meta.fragment}}</a>`},
			meta: map[string]string{"fragment": `<b>1</b>`},
			want: `<a><b>1</b></a>`,
		},
		{
			name: "missing values are empty; numbers as written",
			opts: TemplateOptions{Template: `<a n="{{.body.n}}">{{.meta.none}}{{.body.none}}</a>`},
			in:   `{"n": 1.50}`,
			want: `<a n="1.50"></a>`,
		},
		{
			name: "body nil on XML payload; variables and conditions",
			opts: TemplateOptions{Template: `{{$s := .meta.subject}}<a>{{if .body}}json{{else}}{{$s}}{{end}}</a>`},
			meta: map[string]string{"subject": "s<1>"},
			in:   `<x/>`,
			want: `<a>s&lt;1&gt;</a>`,
		},
		{
			name:    "output not well-formed",
			opts:    TemplateOptions{Template: `<a>{{raw .meta.x}}`},
			meta:    map[string]string{"x": "<b>"},
			wantErr: "xml_template: output: payload is not well-formed XML: XML syntax error on line 1: unexpected EOF",
		},
		{
			name:    "execution error",
			opts:    TemplateOptions{Template: `<a>{{index .body.items 5}}</a>`},
			in:      `{"items":[]}`,
			wantErr: `xml_template: template: template:1:5: executing "template" at <index .body.items 5>: error calling index: index out of range: 5`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := transforms.NewMessage("1", tt.meta, []byte(tt.in))
			err := newStep(t, "xml_template", &tt.opts).Apply(context.Background(), m)
			if !transformstest.WantErr(t, err, tt.wantErr) {
				return
			}
			if got := payload(t, m); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
			if ct := m.Metadata[envelope.ContentType]; ct != "application/xml" {
				t.Errorf("content type = %q", ct)
			}
		})
	}
}

// A template that never mentions the body does not decode the payload, and the document it makes
// is parsed once for the steps that follow.
func TestTemplateUsesBody(t *testing.T) {
	for src, want := range map[string]bool{
		`<a>{{.meta.x}}</a>`:                       false,
		`<a>{{.body.x}}</a>`:                       true,
		`<a>{{range .body}}{{.}}{{end}}</a>`:       true,
		`<a>{{with $.body}}1{{end}}</a>`:           true,
		`<a>{{$m := .meta}}{{$m.subject}}</a>`:     false,
		`{{define "x"}}{{.body}}{{end}}<a></a>`:    true,
		`<a>{{if eq .meta.a "b"}}{{.}}{{end}}</a>`: true,
	} {
		tpl, err := parseTemplate("t", src)
		if err != nil {
			t.Fatal(err)
		}
		if got := usesBody(tpl); got != want {
			t.Errorf("%s: usesBody = %v, want %v", src, got, want)
		}
	}
}
