package spec

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

type optInner struct {
	Size ByteSize `yaml:"size" doc:"d" default:"1KiB"`
}

type optConfig struct {
	Name    string            `yaml:"name" doc:"d" default:"hub"`
	Wait    Duration          `yaml:"wait" doc:"d" default:"250ms"`
	Count   int               `yaml:"count" doc:"d" default:"3"`
	Types   []string          `yaml:"types" doc:"d" default:"[a, b]"`
	On      bool              `yaml:"on" doc:"d" default:"true"`
	Labels  map[string]string `yaml:"labels" doc:"d"`
	Inner   optInner          `yaml:"inner" doc:"d"`
	Invalid bool              `yaml:"invalid" doc:"d"`
}

func (c *optConfig) Validate() error {
	if c.Invalid {
		return FieldErrorf("invalid", "is set")
	}
	return nil
}

func TestOptionsAppliesTagDefaultsAndValidates(t *testing.T) {
	want := optConfig{Name: "hub", Wait: Duration(250 * time.Millisecond), Count: 3, Types: []string{"a", "b"}, Inner: optInner{Size: 1024}}
	for _, in := range []any{&optConfig{}, optConfig{}, (*optConfig)(nil)} {
		got, err := Options[optConfig](in)
		if err != nil {
			t.Fatalf("%T: %v", in, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%T: got %+v, want %+v", in, got, want)
		}
	}
	// Set fields are kept; booleans are never defaulted.
	got, err := Options[optConfig](&optConfig{Name: "x", Count: 7})
	if err != nil || got.Name != "x" || got.Count != 7 || got.On {
		t.Errorf("got %+v, %v", got, err)
	}
	_, err = Options[optConfig](&optConfig{Invalid: true})
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "invalid" {
		t.Errorf("Validate not called: %v", err)
	}
	if _, err := Options[optConfig]("nonsense"); err == nil {
		t.Error("a string passed as options was accepted")
	}
}
