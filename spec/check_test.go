package spec

import (
	"errors"
	"strings"
	"testing"
	"time"
)

type checkInner struct {
	Name string `yaml:"name" doc:"n" required:"true"`
	Size int    `yaml:"size" doc:"s" min:"1" max:"10"`
}

type checkConfig struct {
	Mode    string                `yaml:"mode" doc:"m" enum:"a,b"`
	Workers int                   `yaml:"workers" doc:"w" min:"1" max:"64"`
	Ratio   float64               `yaml:"ratio" doc:"r" min:"0.5"`
	Wait    Duration              `yaml:"wait" doc:"w" min:"1s" max:"1m"`
	URL     string                `yaml:"url" doc:"u" required:"true"`
	Tags    []string              `yaml:"tags" doc:"t" max:"2"`
	Inner   checkInner            `yaml:"inner" doc:"i"`
	Items   []checkInner          `yaml:"items" doc:"i"`
	ByName  map[string]checkInner `yaml:"by_name" doc:"b"`
	Ptr     *checkInner           `yaml:"ptr" doc:"p"`
}

func (c *checkConfig) Validate() error {
	if c.Mode == "b" && c.Workers > 1 {
		return FieldErrorf("workers", "mode b runs one worker")
	}
	return nil
}

// Configurations built in Go are refused for what the tags forbid, each error naming its field,
// as a file with the same values would be.
func TestCheckRefusesOutOfRange(t *testing.T) {
	valid := func() checkConfig {
		return checkConfig{Mode: "a", Workers: 4, Ratio: 1, Wait: Duration(time.Second), URL: "http://x", Tags: []string{"x"},
			Inner: checkInner{Name: "n", Size: 2}, Items: []checkInner{{Name: "i"}}, ByName: map[string]checkInner{"k": {Name: "k"}}}
	}
	for _, tt := range []struct {
		name string
		edit func(*checkConfig)
		want string
	}{
		{"enum", func(c *checkConfig) { c.Mode = "c" }, `mode: must be one of a, b; got "c"`},
		{"below min", func(c *checkConfig) { c.Workers = -1 }, "workers: must be at least 1, got -1"},
		{"above max", func(c *checkConfig) { c.Workers = 65 }, "workers: must be at most 64, got 65"},
		{"float below min", func(c *checkConfig) { c.Ratio = 0.25 }, "ratio: must be at least 0.5, got 0.25"},
		{"duration below min", func(c *checkConfig) { c.Wait = Duration(time.Millisecond) }, "wait: must be at least 1s, got 1ms"},
		{"duration above max", func(c *checkConfig) { c.Wait = Duration(time.Hour) }, "wait: must be at most 1m, got 1h0m0s"},
		{"required", func(c *checkConfig) { c.URL = "" }, "url: is required"},
		{"list too long", func(c *checkConfig) { c.Tags = []string{"a", "b", "c"} }, "tags: must have at most 2 items, got 3"},
		{"nested", func(c *checkConfig) { c.Inner.Size = 11 }, "inner.size: must be at most 10, got 11"},
		{"nested required in a zero struct", func(c *checkConfig) { c.Inner = checkInner{} }, "inner.name: is required"},
		{"list item", func(c *checkConfig) { c.Items = append(c.Items, checkInner{Size: 1}) }, "items[1].name: is required"},
		{"map value", func(c *checkConfig) { c.ByName["z"] = checkInner{Name: "z", Size: 99} }, "by_name.z.size: must be at most 10, got 99"},
		{"pointer", func(c *checkConfig) { c.Ptr = &checkInner{Name: "p", Size: -5} }, "ptr.size: must be at least 1, got -5"},
		{"own Validate after the tags", func(c *checkConfig) { c.Mode = "b" }, "workers: mode b runs one worker"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := valid()
			if err := Validate(&c); err != nil {
				t.Fatalf("the valid configuration is refused: %v", err)
			}
			tt.edit(&c)
			err := Validate(&c)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			for _, e := range Unjoin(err) {
				var fe *FieldError
				if !errors.As(e, &fe) {
					t.Errorf("%v is not a FieldError", e)
				}
			}
		})
	}
}

// A zero field counts as absent, as a key left out of a file: only required refuses it.
func TestCheckZeroIsAbsent(t *testing.T) {
	c := checkConfig{URL: "u", Inner: checkInner{Name: "n"}}
	if err := Check(&c); err != nil {
		t.Errorf("err = %v", err)
	}
	if err := Check(c); err != nil {
		t.Errorf("a struct value: err = %v", err)
	}
	if err := Check(42); err == nil {
		t.Error("Check accepted an int")
	}
}

// Options applies the defaults, then the tags, then Validate.
func TestOptionsChecksTags(t *testing.T) {
	type opts struct {
		Workers int `yaml:"workers" doc:"w" default:"2" min:"1" max:"8"`
	}
	if o, err := Options[opts](&opts{}); err != nil || o.Workers != 2 {
		t.Errorf("zero options: %+v, %v", o, err)
	}
	if _, err := Options[opts](&opts{Workers: 9}); err == nil || !strings.Contains(err.Error(), "workers: must be at most 8, got 9") {
		t.Errorf("err = %v", err)
	}
}
