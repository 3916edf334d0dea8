package spec_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/aiskao/aiskao/spec"
)

type inner struct {
	Name  string `yaml:"name" doc:"A name." required:"true"`
	Count int    `yaml:"count" doc:"A count." default:"2" min:"1" max:"5"`
}

// Validate points an error at a field so that its position can be checked.
func (i *inner) Validate() error {
	if i.Name == "bad" {
		return errors.Join(spec.FieldErrorf("name", "must not be bad"), errors.New("whole struct is wrong"))
	}
	return nil
}

type config struct {
	Listen   string            `yaml:"listen" doc:"Address." required:"true"`
	Mode     string            `yaml:"mode" doc:"Mode." enum:"a,b" default:"a"`
	On       bool              `yaml:"on" doc:"Switch."`
	Ratio    float64           `yaml:"ratio" doc:"Ratio." default:"0.5" max:"1"`
	Small    int8              `yaml:"small" doc:"Small number."`
	Wait     spec.Duration     `yaml:"wait" doc:"Wait." default:"1s" min:"10ms"`
	Size     spec.ByteSize     `yaml:"size" doc:"Size." default:"1KiB"`
	Tags     []string          `yaml:"tags" doc:"Tags." min:"1"`
	Labels   map[string]string `yaml:"labels" doc:"Labels."`
	Inner    *inner            `yaml:"inner" doc:"Inner."`
	Items    []inner           `yaml:"items" doc:"Items."`
	Opt      *inner            `yaml:"opt" doc:"Optional."`
	Flag     *bool             `yaml:"flag" doc:"Flag." default:"true"`
	Limit    *int              `yaml:"limit" doc:"Limit."`
	Free     any               `yaml:"free" doc:"Anything."`
	Raw      yaml.Node         `yaml:"raw" doc:"Kept raw."`
	internal int
}

func parse(t *testing.T, src string) *yaml.Node {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	return &doc
}

func TestDecodeGood(t *testing.T) {
	src := `
listen: ":80"
mode: b
on: true
small: -3
wait: 250ms
size: 2MiB
tags: [x, y]
labels: {a: "1"}
inner: {name: n}
items: [{name: i, count: 5}]
opt: {name: o}
limit: 7
free: {k: [1, 2]}
raw: {any: thing}
`
	var c config
	if errs := spec.Decode("c.yaml", parse(t, src), "", &c); errs != nil {
		t.Fatal(errs)
	}
	want := config{
		Listen: ":80", Mode: "b", On: true, Ratio: 0.5, Small: -3, Wait: spec.Duration(250 * time.Millisecond),
		Size: 2 << 20, Tags: []string{"x", "y"}, Labels: map[string]string{"a": "1"},
		Inner: &inner{Name: "n", Count: 2}, Items: []inner{{Name: "i", Count: 5}}, Opt: &inner{Name: "o", Count: 2},
		Free: map[string]any{"k": []any{1, 2}},
	}
	tr, seven := true, 7
	want.Flag, want.Limit = &tr, &seven
	raw := c.Raw
	c.Raw = yaml.Node{}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got  %+v\nwant %+v", c, want)
	}
	if raw.Kind != yaml.MappingNode || raw.Line != 15 {
		t.Errorf("raw node kind %v line %d, want the mapping at line 15", raw.Kind, raw.Line)
	}
}

func TestDecodeAbsentSection(t *testing.T) {
	type opts struct {
		Dir   string        `yaml:"dir" doc:"Folder." default:"queue"`
		Retry inner         `yaml:"retry" doc:"Nested defaults apply too."`
		Every spec.Duration `yaml:"every" doc:"Interval."`
	}
	var o opts
	errs := spec.Decode("c.yaml", nil, "store", &o)
	want := "c.yaml: store.retry: missing required key \"name\""
	if errs.Error() != want {
		t.Errorf("got %v, want %s", errs, want)
	}
	if o.Dir != "queue" {
		t.Errorf("dir = %q, want the default", o.Dir)
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"unknown key", "listen: x\nlisen: y", `c.yaml:2:1: cfg: unknown key "lisen"; allowed: listen, mode, on, ratio, small, wait, size, tags, labels, inner, items, opt, flag, limit, free, raw`},
		{"missing required", "mode: a", `c.yaml:1:1: cfg: missing required key "listen"`},
		{"null counts as missing", "listen:\n", `c.yaml:1:1: cfg: missing required key "listen"`},
		{"not a mapping", "[1]", `c.yaml:1:1: cfg: want a mapping, got a list`},
		{"string wanted", "listen: {a: 1}", `c.yaml:1:9: cfg.listen: want a string, got a mapping`},
		{"enum", "listen: x\nmode: c", `c.yaml:2:7: cfg.mode: must be one of a, b; got "c"`},
		{"bool", "listen: x\non: yes", `c.yaml:2:5: cfg.on: want true or false, got "yes"`},
		{"max", "listen: x\nratio: 1.5", `c.yaml:2:8: cfg.ratio: must be at most 1`},
		{"overflow", "listen: x\nsmall: 300", `c.yaml:2:8: cfg.small: 300 is too large for int8`},
		{"integer", "listen: x\nsmall: 1.5", `c.yaml:2:8: cfg.small: want an integer, got "1.5"`},
		{"duration", "listen: x\nwait: soon", `c.yaml:2:7: cfg.wait: invalid duration "soon": want a number with a unit, such as 500ms, 10s or 5m`},
		{"duration kind", "listen: x\nwait: [1s]", `c.yaml:2:7: cfg.wait: want a duration, got a list`},
		{"duration min", "listen: x\nwait: 1ms", `c.yaml:2:7: cfg.wait: must be at least 10ms`},
		{"size", "listen: x\nsize: 1 MB", `c.yaml:2:7: cfg.size: invalid size "1 MB": want bytes, optionally with KiB, MiB or GiB, such as 10MiB`},
		{"list", "listen: x\ntags: a", `c.yaml:2:7: cfg.tags: want a list, got "a"`},
		{"list min", "listen: x\ntags: []", `c.yaml:2:7: cfg.tags: must have at least 1 item`},
		{"repeated key", "listen: x\nlisten: y", `c.yaml:2:1: cfg.listen: key "listen" is repeated (first at line 1)`},
		{"nested", "listen: x\nitems: [{name: a}, {count: 9}]", "c.yaml:2:20: cfg.items[1]: missing required key \"name\"\nc.yaml:2:28: cfg.items[1].count: must be at most 5"},
		{"validate", "listen: x\ninner:\n  count: 3\n  name: bad", "c.yaml:3:3: cfg.inner: whole struct is wrong\nc.yaml:4:9: cfg.inner.name: must not be bad"},
		{"alias", "listen: x\ninner: &a {name: bad}\nopt: *a", "c.yaml:2:8: cfg.inner: whole struct is wrong\nc.yaml:2:8: cfg.opt: whole struct is wrong\nc.yaml:2:18: cfg.inner.name: must not be bad\nc.yaml:2:18: cfg.opt.name: must not be bad"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c config
			errs := spec.Decode("c.yaml", parse(t, tc.src), "cfg", &c)
			if got := errs.Error(); got != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

func TestDecodeNoKeys(t *testing.T) {
	var empty struct{}
	errs := spec.Decode("c.yaml", parse(t, "x: 1"), "steps[0].xml_to_json", &empty)
	if want := `c.yaml:1:1: steps[0].xml_to_json: unknown key "x"; no keys are allowed here`; errs.Error() != want {
		t.Errorf("got %v, want %s", errs, want)
	}
}

func TestLookup(t *testing.T) {
	n := parse(t, "cases:\n  - when: {xpath: a}\n  - when: {expr: b}\n")
	if got := spec.Lookup(n, "cases[1].when.expr"); got == nil || got.Value != "b" || got.Line != 3 {
		t.Errorf("Lookup = %+v", got)
	}
	for _, missing := range []string{"cases[2]", "cases.when", "nope", "cases[0].when.expr"} {
		if got := spec.Lookup(n, missing); got != nil {
			t.Errorf("Lookup(%s) = %+v, want nil", missing, got)
		}
	}
}

func TestDecodeNeedsPointer(t *testing.T) {
	var c config
	if errs := spec.Decode("c.yaml", nil, "", c); len(errs) != 1 || !strings.Contains(errs[0].Msg, "non-nil pointer") {
		t.Errorf("got %v", errs)
	}
}
