package eauthsim

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/aiskao/aiskao/dossier/ident"
)

//go:embed persons.yaml
var demoPersons []byte

// Person is a test person the simulator can sign in as.
type Person struct {
	EGN       string `yaml:"egn"`
	Name      string `yaml:"name"`       // in Cyrillic
	LatinName string `yaml:"latin_name"` // in Latin
	Email     string `yaml:"email"`
	Phone     string `yaml:"phone"`
}

// DemoPersons are the fictitious persons shipped with the simulator.
func DemoPersons() []Person {
	ps, err := ParsePersons(demoPersons)
	if err != nil {
		panic(err) // the embedded file is checked by the package's tests
	}
	return ps
}

// LoadPersons reads a YAML file of persons (see persons.yaml).
func LoadPersons(path string) ([]Person, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("eauthsim: persons: %w", err)
	}
	ps, err := ParsePersons(b)
	if err != nil {
		return nil, fmt.Errorf("eauthsim: persons file %s: %w", path, err)
	}
	return ps, nil
}

// ParsePersons reads persons from YAML; every ЕГН must be valid and every person named.
func ParsePersons(b []byte) ([]Person, error) {
	var f struct {
		Persons []Person `yaml:"persons"`
	}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, err
	}
	if len(f.Persons) == 0 {
		return nil, errors.New("no persons")
	}
	for i, p := range f.Persons {
		if err := ident.ValidateEGN(p.EGN); err != nil {
			return nil, fmt.Errorf("persons[%d]: %w", i, err)
		}
		if p.Name == "" {
			return nil, fmt.Errorf("persons[%d]: no name", i)
		}
	}
	return f.Persons, nil
}
