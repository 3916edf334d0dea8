package main

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/aiskao/aiskao/connectors/regix/servicecheck"
	"github.com/aiskao/aiskao/dossier/service"
	"github.com/aiskao/aiskao/hub"
	"github.com/aiskao/aiskao/regix"
	"github.com/aiskao/aiskao/routes"
)

const validateUsage = `[-config FILE|DIR] [FILE|DIR...]

Checks configurations as serve does before it starts, without starting anything: the YAML, every
option, and everything built from them (files named exist and compile: JSON schemas, XSDs,
templates; XPaths and expressions compile; each connector can be what the routes make it).
Problems are printed as file:line:col: path: what is wrong; the exit status is 1 if any.

  -config FILE|DIR   one configuration exactly as 'aiskao serve -config' reads it (a folder's
                     *.yaml files together)
  FILE               a configuration, a route-test file (one with cases:), checked with the
                     configuration it names, or a service description (one with id: and
                     stages:, as in configs/services/), checked with the service loader and
                     against the RegiX operations its checklist names
  DIR                searched with its subfolders; each YAML file is checked on its own as above,
                     and a service version described twice in one folder is an error; YAML
                     that is none of these (an ЕСОЕД registry, ...) is named and skipped

Проверява конфигурации както serve преди старт, без да стартира нищо.`

func runValidate(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("validate", validateUsage, stderr)
	config := fs.String("config", "", "a configuration file or folder, as serve -config reads it")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 && *config == "" {
		fs.Usage()
		return errUsage
	}
	v := validator{out: stdout, cat: routes.DefaultCatalog()}
	if *config != "" {
		v.configuration(*config)
	}
	for _, path := range fs.Args() {
		st, err := os.Stat(path)
		switch {
		case err != nil:
			v.bad++
			fmt.Fprintln(stdout, err)
		case st.IsDir():
			v.folder(path)
		default:
			v.file(path, true)
		}
	}
	if v.bad > 0 {
		if v.walked && v.configBad {
			fmt.Fprintln(stdout, "(each file of a folder is checked on its own; to check a folder as one configuration, as serve reads it: aiskao validate -config DIR)")
		}
		return exitError(1)
	}
	return nil
}

// validator checks paths and prints a line for each configuration or route-test file.
type validator struct {
	out    io.Writer
	cat    routes.Catalog
	bad    int
	walked bool // a folder was searched
	// configBad says a configuration was refused: the hint for -config DIR applies only then.
	configBad bool

	services map[string]string // "folder id@version" -> the file describing it
}

// configuration checks one configuration as serve would load and build it.
func (v *validator) configuration(path string) {
	cfg, err := routes.Load(v.cat, path)
	if err == nil {
		err = hub.Check(cfg, hub.Options{Catalog: v.cat})
	}
	if err != nil {
		v.bad++
		v.configBad = true
		fmt.Fprintln(v.out, err)
		return
	}
	fmt.Fprintf(v.out, "%s: ok (%d connectors, %d routes)\n", path, len(cfg.Connectors), len(cfg.Routes))
}

// folder checks every YAML file in dir and below, in name order.
func (v *validator) folder(dir string) {
	v.walked = true
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ext := filepath.Ext(p); !d.IsDir() && (ext == ".yaml" || ext == ".yml") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		v.bad++
		fmt.Fprintln(v.out, err)
		return
	}
	if len(files) == 0 {
		v.bad++
		fmt.Fprintf(v.out, "%s: no .yaml or .yml files\n", dir)
		return
	}
	sort.Strings(files)
	for _, f := range files {
		v.file(f, false)
	}
}

// configKeys are the top-level keys of a configuration file.
var configKeys = map[string]bool{"transport": true, "store": true, "ops": true, "connectors": true, "routes": true}

// file checks one file as what its top-level keys say it is: a route-test file, a configuration,
// or (only when found in a folder, not named) neither, which is skipped.
func (v *validator) file(path string, named bool) {
	keys := topKeys(path)
	switch {
	case isService(keys):
		v.checkService(path)
	case hub.IsRouteTest(keys):
		rt, err := hub.CheckRouteTest(path, hub.Options{Catalog: v.cat})
		if err != nil {
			v.bad++
			fmt.Fprintln(v.out, err)
			return
		}
		fmt.Fprintf(v.out, "%s: route tests valid (%d cases of route %s in %s; aiskao test runs them)\n", path, len(rt.Cases), rt.Route, rt.Config)
	case named || len(keys) == 0 || anyConfigKey(keys):
		v.configuration(path)
	default:
		fmt.Fprintf(v.out, "%s: skipped: not a configuration or route-test file (keys: %s)\n", path, strings.Join(keys, ", "))
	}
}

// isService reports whether top-level keys are those of a service description: an id and what
// only a service has (a configuration has no id).
func isService(keys []string) bool {
	var id, other bool
	for _, k := range keys {
		switch k {
		case "id":
			id = true
		case "legal_basis", "register_index", "checklist", "terms", "stages":
			other = true
		}
	}
	return id && other
}

// checkService checks one service description: with the loader, against the RegiX operations its
// checklist names, and against the other services of its folder.
func (v *validator) checkService(path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		v.bad++
		fmt.Fprintln(v.out, err)
		return
	}
	s, err := service.Parse(path, data)
	if err != nil {
		v.bad++
		fmt.Fprintln(v.out, err)
		return
	}
	ops, err := regix.Catalog()
	if err != nil {
		v.bad++
		fmt.Fprintln(v.out, err)
		return
	}
	if errs := servicecheck.Check(path, s, ops); len(errs) > 0 {
		v.bad++
		fmt.Fprintln(v.out, errs)
		return
	}
	key := fmt.Sprintf("%s %s@%d", filepath.Dir(path), s.ID, s.Version)
	if first, dup := v.services[key]; dup {
		v.bad++
		fmt.Fprintf(v.out, "%s: version: service %s version %d is also described in %s\n", path, s.ID, s.Version, first)
		return
	}
	if v.services == nil {
		v.services = map[string]string{}
	}
	v.services[key] = path
	registers := 0
	for _, it := range s.Checklist {
		if it.Source == service.FromRegister {
			registers++
		}
	}
	fmt.Fprintf(v.out, "%s: service %s version %d valid (%d checklist items, %d from registers; %d term types)\n", path, s.ID, s.Version, len(s.Checklist), registers, len(s.Terms))
}

func anyConfigKey(keys []string) bool {
	for _, k := range keys {
		if configKeys[k] {
			return true
		}
	}
	return false
}

// topKeys returns the top-level keys of a YAML file; none when it cannot be read or is not a
// mapping, so that the check that follows reports why.
func topKeys(path string) []string {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil
	}
	var keys []string
	m := doc.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		keys = append(keys, m.Content[i].Value)
	}
	return keys
}

func runSchema(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("schema", "", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	b, err := routes.Schema(routes.DefaultCatalog())
	if err != nil {
		return err
	}
	_, err = stdout.Write(append(b, '\n'))
	return err
}
