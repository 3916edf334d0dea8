package service

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/aiskao/aiskao/spec"
)

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// Parse reads one service from data; file names it in errors. Every problem
// is returned as spec.Errors, sorted, each with its line and the field's
// path ("checklist[2].operation").
func Parse(file string, data []byte) (*Service, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		e := spec.Error{File: file, Msg: "invalid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			e.Line, _ = strconv.Atoi(m[1])
			e.Col, e.Msg = 1, "invalid YAML: "+m[2]
		}
		return nil, spec.Errors{e}
	}
	if len(doc.Content) == 0 {
		return nil, spec.Errors{{File: file, Msg: "the file is empty; it should describe one service"}}
	}
	var s Service
	if errs := spec.Decode(file, doc.Content[0], "", &s); len(errs) > 0 {
		return nil, errs
	}
	return &s, nil
}

// Catalog holds services by identifier and version. It is filled once (Add,
// LoadDir) and then only read, so it may be shared.
type Catalog struct {
	byID map[string][]*Service // each list sorted by version
}

// NewCatalog returns an empty catalogue.
func NewCatalog() *Catalog { return &Catalog{byID: map[string][]*Service{}} }

// Add puts a service version in the catalogue; a version given twice is an error.
func (c *Catalog) Add(s *Service) error {
	vs := c.byID[s.ID]
	i := sort.Search(len(vs), func(i int) bool { return vs[i].Version >= s.Version })
	if i < len(vs) && vs[i].Version == s.Version {
		return fmt.Errorf("service: %s version %d is given twice", s.ID, s.Version)
	}
	vs = append(vs, nil)
	copy(vs[i+1:], vs[i:])
	vs[i] = s
	c.byID[s.ID] = vs
	return nil
}

// Latest returns the newest version of service id, the one new dossiers are opened under.
func (c *Catalog) Latest(id string) (*Service, bool) {
	vs := c.byID[id]
	if len(vs) == 0 {
		return nil, false
	}
	return vs[len(vs)-1], true
}

// Version returns version v of service id, the one a dossier was opened under.
func (c *Catalog) Version(id string, v int) (*Service, bool) {
	for _, s := range c.byID[id] {
		if s.Version == v {
			return s, true
		}
	}
	return nil, false
}

// IDs lists the services' identifiers in order.
func (c *Catalog) IDs() []string {
	ids := make([]string, 0, len(c.byID))
	for id := range c.byID {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// LoadDir reads every *.yaml and *.yml file of dir, one service version each,
// into a catalogue. Problems in the files are returned together as
// spec.Errors; a folder or file that cannot be read is a plain error.
func LoadDir(dir string) (*Catalog, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("service: load: %w", err)
	}
	c := NewCatalog()
	var errs spec.Errors
	where := map[string]string{} // "id@version" -> file
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if e.IsDir() || (ext != ".yaml" && ext != ".yml") {
			continue
		}
		file := filepath.Join(dir, e.Name())
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("service: load: %w", err)
		}
		s, err := Parse(file, data)
		if err != nil {
			errs = append(errs, err.(spec.Errors)...)
			continue
		}
		key := fmt.Sprintf("%s@%d", s.ID, s.Version)
		if first, dup := where[key]; dup {
			errs = append(errs, spec.Error{File: file, Path: "version", Msg: fmt.Sprintf("service %s version %d is also described in %s", s.ID, s.Version, first)})
			continue
		}
		where[key] = file
		if err := c.Add(s); err != nil {
			return nil, err
		}
	}
	if len(errs) > 0 {
		errs.Sort()
		return nil, errs
	}
	return c, nil
}
