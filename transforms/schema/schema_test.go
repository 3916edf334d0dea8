package schema

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/transforms"
)

var env = transforms.Env{BaseDir: "testdata"}

func newStep(t testing.TB, o *Options) transforms.Step {
	t.Helper()
	f, ok := transforms.Default.Lookup("json_schema")
	if !ok {
		t.Fatal("json_schema is not registered")
	}
	s, err := f.New(o, env)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sample(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "esoed-document-status-response.json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestOptions(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{name: "file", opts: Options{Schema: "esoed-message.schema.json"}},
		{name: "inline", opts: Options{Inline: map[string]any{"type": "object", "maxProperties": 3}}},
		{name: "none", want: "schema: set schema (a file) or inline"},
		{name: "both", opts: Options{Schema: "a.json", Inline: map[string]any{}}, want: "inline: set schema or inline, not both"},
		{name: "missing file", opts: Options{Schema: "none.json"}, want: "schema: open none.json: no such file or directory"},
		{name: "invalid schema", opts: Options{Schema: "invalid.schema.json"},
			want: `schema: not a valid JSON Schema: /properties/a/type: expected array, but got string; /properties/a/type: value must be one of "array", "boolean", "integer", "null", "number", "object", "string"`},
		{name: "invalid inline", opts: Options{Inline: map[string]any{"minLength": -1}},
			want: "inline: not a valid JSON Schema: /minLength: must be >= 0 but found -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(&tt.opts, env)
			var got string
			if err != nil {
				var fe *spec.FieldError
				if !errors.As(err, &fe) {
					t.Fatalf("error %v is not a field error", err)
				}
				got = err.Error()
			}
			if got != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestApply(t *testing.T) {
	good := string(sample(t))
	tests := []struct {
		name    string
		in      string
		want    string
		problem int
	}{
		{name: "real ЕСОЕД message", in: good},
		{
			name:    "bad GUID",
			in:      strings.Replace(good, "{f3da1c2e-19b4-4dab-bb60-4a926d8f6d58}", "f3da1c2e", 1),
			want:    "json_schema: /Message/Header/MessageGUID: does not match pattern '^\\\\{[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}\\\\}$'",
			problem: 1,
		},
		{
			name: "every problem, in order of place",
			in: `{"Message":{"@xmlns":"urn:other","Header":{"Version":"2.0","MessageType":"MSG_X","MessageDate":"yesterday",` +
				`"Sender":{"Identifier":"12","AdministrativeBodyName":""},"Recipient":{"Identifier":"123456789"},"MessageGUID":"{f3da1c2e-19b4-4dab-bb60-4a926d8f6d58}"},"Body":{}},"Extra":1}`,
			want: "json_schema: (root): additionalProperties 'Extra' not allowed; " +
				"/Message/@xmlns: value must be \"http://schemas.egov.bg/messaging/v1\"; " +
				"/Message/Body: minimum 1 properties allowed, but found 0 properties; " +
				"/Message/Header/MessageDate: 'yesterday' is not valid 'date-time'; " +
				"/Message/Header/Recipient: missing properties: 'AdministrativeBodyName'; " +
				"/Message/Header/Sender/AdministrativeBodyName: length must be >= 1, but got 0; " +
				"/Message/Header/Sender/Identifier: does not match pattern '^[0-9]{9,13}$'; " +
				"/Message/Header/Version: value must be \"1.0\"",
			problem: 8,
		},
		{name: "not JSON", in: `<Message/>`, want: "json_schema: payload is not valid JSON: invalid character '<' looking for beginning of value"},
	}
	s := newStep(t, &Options{Schema: "esoed-message.schema.json"})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Apply(context.Background(), transforms.NewMessage("1", nil, []byte(tt.in)))
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error = %v\nwant    %s", err, tt.want)
			}
			var se *Error
			if errors.As(err, &se) != (tt.problem > 0) || (se != nil && len(se.Problems) != tt.problem) {
				t.Fatalf("problems = %+v, want %d", se, tt.problem)
			}
		})
	}
}

// Numbers reach the validator as json.Number, and an inline schema written in YAML (ints) works.
func TestInlineNumbers(t *testing.T) {
	s := newStep(t, &Options{Inline: map[string]any{
		"type":       "object",
		"properties": map[string]any{"fee": map[string]any{"type": "integer", "maximum": 100}},
	}})
	for in, want := range map[string]string{
		`{"fee": 100}`:   "",
		`{"fee": 100.5}`: "json_schema: /fee: expected integer, but got number",
		`{"fee": 101}`:   "json_schema: /fee: must be <= 100 but found 101",
	} {
		err := s.Apply(context.Background(), transforms.NewMessage("1", nil, []byte(in)))
		if got := errString(err); got != want {
			t.Errorf("%s: error = %q, want %q", in, got, want)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// BenchmarkJSONSchema validates a valid message as the step does (checker, then the library only
// for a message the checker does not pass) and with the library alone, on the schema of these
// tests and on the demo's.
func BenchmarkJSONSchema(b *testing.B) {
	cases := []struct{ name, schema, sample string }{
		{"testdata", "esoed-message.schema.json", filepath.Join("testdata", "esoed-document-status-response.json")},
		// the schema's path is relative to testdata, the step's base folder
		{"demo", filepath.Join("..", "..", "..", "configs", "schemas", "esoed-message.json"),
			filepath.Join("..", "..", "testdata", "esoed", "registration-request.json")},
	}
	for _, c := range cases {
		s := newStep(b, &Options{Schema: c.schema}).(*Step)
		if s.fast == nil {
			b.Fatalf("%s: no checker", c.name)
		}
		doc, err := os.ReadFile(c.sample)
		if err != nil {
			b.Fatal(err)
		}
		m := transforms.NewMessage("1", nil, doc)
		if _, err := m.JSON(); err != nil {
			b.Fatal(err)
		}
		for _, mode := range []struct {
			name string
			step *Step
		}{{"step", s}, {"library", &Step{schema: s.schema}}} {
			b.Run(c.name+"/"+mode.name, func(b *testing.B) {
				ctx := context.Background()
				b.ReportAllocs()
				for b.Loop() {
					if err := mode.step.Apply(ctx, m); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
