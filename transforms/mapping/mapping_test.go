package mapping

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"maps"
	"strings"
	"testing"

	"github.com/aiskao/aiskao/envelope"
	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/transforms"
	"github.com/aiskao/aiskao/transforms/transformstest"
)

func newStep(name string, opts any, env transforms.Env) (transforms.Step, error) {
	f, ok := transforms.Default.Lookup(name)
	if !ok {
		return nil, errors.New(name + " is not registered")
	}
	return f.New(opts, env)
}

func fieldErrors(err error) string {
	var lines []string
	for _, e := range spec.Unjoin(err) {
		var fe *spec.FieldError
		if !errors.As(e, &fe) {
			return "not a field error: " + e.Error()
		}
		lines = append(lines, fe.Field+": "+fe.Msg)
	}
	return strings.Join(lines, "\n")
}

func TestOptionErrors(t *testing.T) {
	tests := []struct {
		name string
		step string
		opts any
		want string
	}{
		{"set good", "set", &SetOptions{Metadata: map[string]string{"a": "meta.b"}, JSON: "body"}, ""},
		{"set empty", "set", &SetOptions{}, "metadata: set at least one of metadata, fields or json"},
		{"set fields and json", "set", &SetOptions{Fields: map[string]string{"a": "1"}, JSON: "{}"}, "json: set fields or json, not both"},
		{"set bad expressions", "set", &SetOptions{Metadata: map[string]string{"a": "meta.", "b": "nope"}, Fields: map[string]string{"c": "1 +"}},
			"metadata.a: invalid expression \"meta.\": unexpected end of expression (1:5)\n" +
				"metadata.b: invalid expression \"nope\": unknown name nope (1:1)\n" +
				"fields.c: invalid expression \"1 +\": unexpected token EOF (1:3)"},
		{"filter good", "filter", &FilterOptions{Expr: "meta.a == 'b'"}, ""},
		{"filter none", "filter", &FilterOptions{}, "expr: set xpath or expr"},
		{"filter both", "filter", &FilterOptions{XPath: "/a", Expr: "true"}, "expr: set xpath or expr, not both"},
		{"filter bad xpath", "filter", &FilterOptions{XPath: "/m:a"}, `xpath: invalid XPath "/m:a": prefix "m" is not declared in namespaces`},
		{"filter not boolean", "filter", &FilterOptions{Expr: "meta.a"}, `expr: invalid expression "meta.a": expected bool, but got string`},
		{"log good", "log", &LogOptions{Level: "warn"}, ""},
		{"log bad level", "log", &LogOptions{Level: "loud"}, `level: must be one of debug, info, warn, error; got "loud"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newStep(tt.step, tt.opts, transforms.Env{})
			if got := fieldErrors(err); got != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestSet(t *testing.T) {
	tests := []struct {
		name     string
		opts     SetOptions
		meta     map[string]string
		in       string
		wantMeta map[string]string
		wantBody string
		wantErr  string
	}{
		{
			name: "metadata from metadata and body",
			opts: SetOptions{Metadata: map[string]string{
				"subject": "body.doc.number", "type": `"esoed." + meta.kind`, "count": "len(body.items)",
				"ratio": "body.fee / 4", "ok": "body.fee > 1", "items": "body.items", "kind": "nil"}},
			meta:     map[string]string{"kind": "DocumentStatusResponse"},
			in:       `{"doc":{"number":"97-0056"},"items":[1,"two"],"fee":2}`,
			wantMeta: map[string]string{"subject": "97-0056", "type": "esoed.DocumentStatusResponse", "count": "2", "ratio": "0.5", "ok": "true", "items": `[1,"two"]`},
			wantBody: `{"doc":{"number":"97-0056"},"items":[1,"two"],"fee":2}`,
		},
		{
			name:     "metadata only leaves an XML payload undecoded",
			opts:     SetOptions{Metadata: map[string]string{"route_note": `meta.source + "/" + meta.type`}},
			meta:     map[string]string{"source": "esoed", "type": "t"},
			in:       `<Message/>`,
			wantMeta: map[string]string{"source": "esoed", "type": "t", "route_note": "esoed/t"},
			wantBody: `<Message/>`,
		},
		{
			name:     "fields merge into the object",
			opts:     SetOptions{Fields: map[string]string{"received_by": "meta.source", "fee": "body.fee * 2", "doc": `{"n": body.doc.n}`}},
			meta:     map[string]string{"source": "portal"},
			in:       `{"doc":{"n":12345678901234567890},"fee":1.25,"keep":true}`,
			wantMeta: map[string]string{"source": "portal", envelope.ContentType: "application/json"},
			wantBody: `{"doc":{"n":12345678901234567000},"fee":2.5,"keep":true,"received_by":"portal"}`,
		},
		{
			name:     "fields on an empty payload",
			opts:     SetOptions{Fields: map[string]string{"a": "meta.x"}},
			meta:     map[string]string{"x": "1"},
			wantMeta: map[string]string{"x": "1", envelope.ContentType: "application/json"},
			wantBody: `{"a":"1"}`,
		},
		{
			name:     "whole JSON payload",
			opts:     SetOptions{JSON: `{"number": meta.subject, "items": map(body.items, # * 10), "none": nil}`},
			meta:     map[string]string{"subject": "97-0056"},
			in:       `{"items":[1,2]}`,
			wantMeta: map[string]string{"subject": "97-0056", envelope.ContentType: "application/json"},
			wantBody: `{"items":[10,20],"none":null,"number":"97-0056"}`,
		},
		{
			name:    "fields need a JSON object",
			opts:    SetOptions{Fields: map[string]string{"a": "1"}},
			in:      `[1]`,
			wantErr: "set: fields: payload is a JSON []interface {}, not an object",
		},
		{
			name:    "fields on XML",
			opts:    SetOptions{Fields: map[string]string{"a": "1"}},
			in:      `<a/>`,
			wantErr: "set: fields: payload is not valid JSON: invalid character '<' looking for beginning of value",
		},
		{
			name:    "run-time error names the key",
			opts:    SetOptions{Metadata: map[string]string{"x": "body.a[5]"}},
			in:      `{"a":[]}`,
			wantErr: `set: metadata "x": expr "body.a[5]": index out of range: 5 (array length is 0) (1:7)`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := newStep("set", &tt.opts, transforms.Env{})
			if err != nil {
				t.Fatal(err)
			}
			m := transforms.NewMessage("1", maps.Clone(tt.meta), []byte(tt.in))
			err = s.Apply(context.Background(), m)
			if !transformstest.WantErr(t, err, tt.wantErr) {
				return
			}
			if !maps.Equal(m.Metadata, tt.wantMeta) {
				t.Errorf("metadata = %v\nwant %v", m.Metadata, tt.wantMeta)
			}
			p, _ := m.Payload()
			if string(p) != tt.wantBody {
				t.Errorf("payload = %s\nwant %s", p, tt.wantBody)
			}
		})
	}
}

func TestFilter(t *testing.T) {
	const doc = `<Message xmlns="http://schemas.egov.bg/messaging/v1"><Header><MessageType>MSG_DocumentStatusResponse</MessageType></Header></Message>`
	ns := map[string]string{"m": "http://schemas.egov.bg/messaging/v1"}
	tests := []struct {
		name     string
		opts     FilterOptions
		meta     map[string]string
		in       string
		wantDrop bool
		wantErr  string
	}{
		{name: "xpath keeps", opts: FilterOptions{XPath: "//m:MessageType = 'MSG_DocumentStatusResponse'", Namespaces: ns}, in: doc},
		{name: "xpath drops", opts: FilterOptions{XPath: "//m:MessageType = 'MSG_DocumentRegistrationRequest'", Namespaces: ns}, in: doc, wantDrop: true},
		{name: "expr keeps", opts: FilterOptions{Expr: `meta.type startsWith "esoed."`}, meta: map[string]string{"type": "esoed.X"}, in: doc},
		{name: "expr drops", opts: FilterOptions{Expr: `body != nil && body.n > 2`}, in: `{"n":2}`, wantDrop: true},
		{name: "xpath on JSON", opts: FilterOptions{XPath: "/a"}, in: `{}`, wantErr: "filter: xpath /a: payload is not well-formed XML: xml: text before the root element at line 1, column 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := newStep("filter", &tt.opts, transforms.Env{})
			if err != nil {
				t.Fatal(err)
			}
			m := transforms.NewMessage("1", tt.meta, []byte(tt.in))
			err = s.Apply(context.Background(), m)
			if !transformstest.WantErr(t, err, tt.wantErr) {
				return
			}
			if m.Dropped() != tt.wantDrop {
				t.Fatalf("dropped = %v, want %v", m.Dropped(), tt.wantDrop)
			}
		})
	}
}

func TestLog(t *testing.T) {
	tests := []struct {
		name string
		opts LogOptions
		want string
	}{
		{name: "keys, no payload", opts: LogOptions{Level: "info", Message: "document received", Keys: []string{"subject", "absent", "type"}},
			want: "level=INFO msg=\"document received\" message_id=m1 subject=97-0056 type=esoed.X\n"},
		{name: "payload on request", opts: LogOptions{Level: "warn", Payload: true},
			want: "level=WARN msg=message message_id=m1 payload=<a>secret</a>\n"},
		{name: "below the level", opts: LogOptions{Level: "debug"}, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey {
					return slog.Attr{}
				}
				return a
			}}))
			s, err := newStep("log", &tt.opts, transforms.Env{Logger: logger})
			if err != nil {
				t.Fatal(err)
			}
			m := transforms.NewMessage("m1", map[string]string{"subject": "97-0056", "type": "esoed.X"}, []byte("<a>secret</a>"))
			if err := s.Apply(context.Background(), m); err != nil {
				t.Fatal(err)
			}
			if buf.String() != tt.want {
				t.Fatalf("log = %q\nwant %q", buf.String(), tt.want)
			}
		})
	}
}
