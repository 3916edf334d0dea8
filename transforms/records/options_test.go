package records

import (
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/transforms"
)

// Bad options are reported at their field, as aiskao validate prints them.
func TestOptionErrors(t *testing.T) {
	tests := []struct{ step, yaml, want string }{
		{"fixed_width", "fields: [{name: a, start: 1, length: 5}, {name: b, start: 4, length: 2}]", "s.yaml:1:59: steps[0].fixed_width.fields[1].start: overlaps fields[0] (a, characters 1–5)"},
		{"fixed_width", "fields: [{name: a, start: 1, length: 5}, {name: a, start: 6, length: 2}]", `steps[0].fixed_width.fields[1].name: "a" is also the name of fields[0]`},
		{"fixed_width", "charset: latin-1\nfields: [{name: a, start: 1, length: 5}]", `s.yaml:1:10: steps[0].fixed_width.charset: unknown character set "latin-1"`},
		{"fixed_width", "record_length: 3\nfields: [{name: a, start: 1, length: 5}]", "steps[0].fixed_width.record_length: 3 is shorter than the fields, which end at 5"},
		{"fixed_width", "fields: [{name: a, start: 0, length: 5}]", "steps[0].fixed_width.fields[0].start: "},
		{"fixed_width", "fields: [{name: a, start: 1, length: 5, pad: ab}]", `steps[0].fixed_width.fields[0].pad: must be exactly one character, got "ab"`},
		{"fixed_width", "fields: [{name: a, start: 1, length: 5, type: date, layout: yesterday}]", `steps[0].fixed_width.fields[0].layout: "yesterday" is not a date layout`},
		{"fixed_width", "fields: [{name: a, start: 1, length: 5, type: boolean, 'true': x, 'false': x}]", `steps[0].fixed_width.fields[0].false: must differ from true ("x")`},
		{"fixed_width", "charset: cp866\nbom: true\nfields: [{name: a, start: 1, length: 5}]", "steps[0].fixed_width.bom: only with charset utf-8"},
		{"csv", "delimiter: '\"'", `steps[0].csv.delimiter: must be one character other than a quote or a line end, got "\""`},
		{"csv", "comment: ','", `steps[0].csv.comment: must be one character other than a quote, a line end or the delimiter`},
		{"csv", "header: false", "steps[0].csv.fields: required without a header"},
		{"csv", "fields: [{name: a}, {name: b, column: a}]", `steps[0].csv.fields[1].column: column "a" is also read by fields[0]`},
		{"csv", "fields: [{name: a, decimal_separator: ';'}]", `steps[0].csv.fields[0].decimal_separator: must be . or , got ";"`},
		{"charset", "from: koi8-u", `steps[0].charset.from: unknown character set "koi8-u"`},
	}
	for _, tt := range tests {
		f, _ := transforms.Default.Lookup(tt.step)
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(tt.yaml), &n); err != nil {
			t.Fatal(err)
		}
		opts := reflect.New(reflect.TypeOf(f.Config).Elem()).Interface()
		errs := spec.Decode("s.yaml", n.Content[0], "steps[0]."+tt.step, opts)
		if len(errs) == 0 || !strings.Contains(errs.Error(), tt.want) {
			t.Errorf("%s %s:\n got %v\nwant %s", tt.step, tt.yaml, errs, tt.want)
		}
	}
}
