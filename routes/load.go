package routes

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	goyaml "github.com/goccy/go-yaml"
	goyamlparser "github.com/goccy/go-yaml/parser"
	"gopkg.in/yaml.v3"

	"github.com/aiskao/aiskao/internal/registry"
	"github.com/aiskao/aiskao/spec"
)

// fileShape is the shape of one configuration file. The sections whose shape depends on a type
// named inside them are kept as nodes and decoded against the catalog.
type fileShape struct {
	Transport  *yaml.Node  `yaml:"transport" doc:"How messages travel from source connectors to the routes that read them: a type and that type's options. Absent: {type: embedded}. Set in one file only."`
	Store      *yaml.Node  `yaml:"store" doc:"Where dead letters, idempotency keys and route state are kept: a type and that type's options. Absent: {type: sqlite}. Set in one file only."`
	Ops        *Ops        `yaml:"ops" doc:"The operations API. Set in one file only."`
	Web        *Web        `yaml:"web" doc:"The people's web applications: the citizens' portal and the staff site. Set in one file only."`
	Connectors *yaml.Node  `yaml:"connectors" doc:"Connectors by name: each has a type and that type's options. Names are unique across all files."`
	Routes     []yaml.Node `yaml:"routes" doc:"Routes, each from one source connector through steps to one or more sinks. Names are unique across all files."`
}

// routeShape is one item of routes.
type routeShape struct {
	Name             string        `yaml:"name" required:"true" doc:"Name of the route, in metrics, logs and dead letters: lowercase letters, digits and hyphens, starting with a letter or digit." example:"incoming-documents"`
	From             string        `yaml:"from" required:"true" doc:"Name of the connector the route reads from; its type must be able to be a source." example:"esoed"`
	Steps            []yaml.Node   `yaml:"steps" doc:"Steps in order. Each item is a mapping of one key, the step's name, to its options."`
	To               *yaml.Node    `yaml:"to" doc:"Connector name, or list of names, that every message surviving the steps is delivered to. Required unless the route has a switch step." example:"dossiers"`
	Timeout          spec.Duration `yaml:"timeout" doc:"Bound on each step and each delivery to a sink." default:"30s"`
	OnError          OnError       `yaml:"on_error" doc:"What happens when a step or a sink fails."`
	Prefetch         int           `yaml:"prefetch" doc:"Most messages of this route that one hub process takes from the transport and handles at once, in place of the transport's prefetch: 1 handles the route's messages one at a time (in order, as far as the transport keeps it); a larger value lets a route whose steps and sinks wait on slow systems keep more in flight. Absent: the transport's prefetch." min:"1" max:"10000" example:"8"`
	MaxInFlightBytes spec.ByteSize `yaml:"max_in_flight_bytes" doc:"Most bytes of payload of this route's messages that one hub process handles at once, besides prefetch's count, so that a burst of large messages cannot take the memory: a message waits until those under way leave room for it; one larger than this is handled alone. Absent: a thirty-second of the memory the process may use (GOMEMLIMIT, the cgroup's limit or the machine's memory), at least 16 MiB and at most 256 MiB." min:"1" example:"64MiB"`
	Inline           bool          `yaml:"inline" doc:"Take a message through the steps to the sinks within the source's own call, before the source answers its sender, instead of storing it in the transport first: an HTTP sender's 202 then means delivered, and the message is written once instead of twice. A message that fails there for any reason (a step, a sink, a time-out) is stored in the transport and goes the usual way, with retries and dead letters. For routes whose steps and sinks answer in milliseconds, reading from a source that feeds no other route; the sender waits for the sinks, and a message that brings the process down is never stored, so the transport's count of deliveries cannot stop it." default:"false"`
}

// switchShape is the options of the switch step.
type switchShape struct {
	Cases   []caseShape  `yaml:"cases" required:"true" min:"1" doc:"Cases in order; the first whose condition holds takes the message."`
	Default *branchShape `yaml:"default" doc:"Branch taken when no case holds. Without it such a message goes on after the switch."`
}

// caseShape is one case of a switch.
type caseShape struct {
	When  Condition   `yaml:"when" required:"true" doc:"Condition of the case: exactly one of xpath or expr."`
	Steps []yaml.Node `yaml:"steps" doc:"Steps of the case, like a route's steps; they may hold a switch too."`
	To    *yaml.Node  `yaml:"to" doc:"Connector name or list of names the case delivers to. Empty: the message goes on after the switch, to the route's sinks."`
}

// branchShape is the default branch of a switch.
type branchShape struct {
	Steps []yaml.Node `yaml:"steps" doc:"Steps of the default branch."`
	To    *yaml.Node  `yaml:"to" doc:"Connector name or list of names the default branch delivers to. Empty: the message goes on after the switch."`
}

// Validate checks the condition by compiling it.
func (c caseShape) Validate() error { return checkCondition("when", c.When) }

// Parse reads one configuration from data; file names it in errors and gives the folder that
// relative paths in options are resolved against. Problems are returned as spec.Errors, sorted,
// all of them.
func Parse(cat Catalog, file string, data []byte) (*Config, error) {
	l := newLoader(cat)
	l.file(file, data)
	return l.finish()
}

// Load reads a configuration from files and folders. A folder contributes its *.yaml and *.yml
// files in name order. Connectors and routes of all files are put together; transport, store and
// ops may each be set in one file only. Problems in the configuration are returned as
// spec.Errors, sorted, all of them; a file that cannot be read is a plain error.
func Load(cat Catalog, paths ...string) (*Config, error) {
	if len(paths) == 0 {
		return nil, errors.New("routes: load: no configuration file given")
	}
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("routes: load: %w", err)
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, fmt.Errorf("routes: load: %w", err)
		}
		n := len(files)
		for _, e := range entries {
			ext := filepath.Ext(e.Name())
			if !e.IsDir() && (ext == ".yaml" || ext == ".yml") {
				files = append(files, filepath.Join(p, e.Name()))
			}
		}
		if len(files) == n {
			return nil, fmt.Errorf("routes: load: folder %s has no .yaml or .yml files", p)
		}
	}
	l := newLoader(cat)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("routes: load: %w", err)
		}
		l.file(f, data)
	}
	return l.finish()
}

// namePattern is the rule for route and connector names.
var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

const nameRule = "lowercase letters, digits and hyphens, starting with a letter or digit"

// ref is a use of a connector by name, checked once every file is read.
type ref struct {
	name string
	pos  Pos
	path string
	sink bool // a sink when true, else a source
	// Of a route's source: whether the route is inline, and the route's name.
	inline bool
	route  string
}

// loader gathers one configuration from one or more files.
type loader struct {
	cat  Catalog
	cfg  *Config
	errs spec.Errors

	transportAt, storeAt, opsAt, webAt *Pos
	connAt                             map[string]Pos    // where each connector is declared
	connType                           map[string]string // type of each declared connector, known or not
	routeAt                            map[string]Pos
	refs                               []ref
}

func newLoader(cat Catalog) *loader {
	return &loader{
		cat:      cat,
		cfg:      &Config{Connectors: map[string]Connector{}},
		connAt:   map[string]Pos{},
		connType: map[string]string{},
		routeAt:  map[string]Pos{},
	}
}

func (l *loader) errorf(file string, at *yaml.Node, path, format string, args ...any) {
	e := spec.Error{File: file, Path: path, Msg: fmt.Sprintf(format, args...)}
	if at != nil {
		e.Line, e.Col = at.Line, at.Column
	}
	l.errs = append(l.errs, e)
}

func pos(file string, n *yaml.Node) Pos {
	if n == nil {
		return Pos{File: file}
	}
	return Pos{File: file, Line: n.Line, Col: n.Column}
}

// where formats a position as "file:line:col", for messages naming another place.
func where(p Pos) string { return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col) }

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// SyntaxError turns yaml.v3's error for data into a positioned error. The parser names
// the line where the enclosing block began (line 1 for a mistake anywhere in a top-level
// mapping), so the place of the mistake itself is taken from a second parser that reports it
// exactly; its own message is kept only when the first parser gave no line.
func SyntaxError(file string, data []byte, err error) spec.Error {
	e := spec.Error{File: file, Msg: "invalid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Col, e.Msg = 1, "invalid YAML: "+m[2]
	}
	var se *goyaml.SyntaxError
	if _, perr := goyamlparser.ParseBytes(data, 0); errors.As(perr, &se) && se.Token != nil && se.Token.Position != nil {
		e.Line, e.Col = se.Token.Position.Line, se.Token.Position.Column
		if e.Msg == "invalid YAML: "+strings.TrimPrefix(err.Error(), "yaml: ") {
			e.Msg = "invalid YAML: " + se.Message
		}
	}
	return e
}

// file reads one file into the configuration being gathered.
func (l *loader) file(file string, data []byte) {
	l.cfg.Files = append(l.cfg.Files, file)
	data, errs := expandEnv(file, data)
	if len(errs) > 0 {
		l.errs = append(l.errs, errs...) // parsing what is left would only add confusing errors
		return
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		l.errs = append(l.errs, SyntaxError(file, data, err))
		return
	}
	if len(doc.Content) == 0 {
		return // an empty file declares nothing
	}
	root := doc.Content[0]
	var f fileShape
	l.errs = append(l.errs, spec.Decode(file, root, "", &f)...)
	if root.Kind != yaml.MappingNode {
		return
	}
	baseDir := filepath.Dir(file)
	if f.Transport != nil && l.once(file, root, "transport", &l.transportAt) {
		l.cfg.Transport = plugin(l, file, f.Transport, "transport", l.cat.Transports, transportConfig)
	}
	if f.Store != nil && l.once(file, root, "store", &l.storeAt) {
		l.cfg.Store = plugin(l, file, f.Store, "store", l.cat.Stores, storeConfig)
	}
	if f.Ops != nil && l.once(file, root, "ops", &l.opsAt) {
		l.cfg.Ops = *f.Ops
		l.cfg.Ops.BaseDir = baseDir
		if n := spec.Lookup(root, "ops"); n != nil {
			if ln := spec.Lookup(n, "listen"); ln != nil {
				l.cfg.Ops.Pos = pos(file, ln)
			}
		}
	}
	if f.Web != nil && l.once(file, root, "web", &l.webAt) {
		l.cfg.Web = *f.Web
		l.cfg.Web.BaseDir = baseDir
		if n := spec.Lookup(root, "web"); n != nil {
			if p := spec.Lookup(n, "portal"); p != nil && l.cfg.Web.Portal != nil {
				l.cfg.Web.Portal.Pos = pos(file, spec.Lookup(p, "listen"))
			}
			if s := spec.Lookup(n, "staff"); s != nil && l.cfg.Web.Staff != nil {
				l.cfg.Web.Staff.Pos = pos(file, spec.Lookup(s, "listen"))
			}
		}
	}
	if f.Connectors != nil && f.Connectors.Kind != yaml.MappingNode {
		l.errorf(file, f.Connectors, "connectors", "want a mapping of connector names to connectors, got %s", spec.Describe(f.Connectors))
	}
	if f.Connectors != nil && f.Connectors.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(f.Connectors.Content); i += 2 {
			l.connector(file, baseDir, f.Connectors.Content[i], f.Connectors.Content[i+1])
		}
	}
	for i := range f.Routes {
		l.route(file, baseDir, i, &f.Routes[i])
	}
}

// once records that the top-level key is set in file, or reports that another file set it.
func (l *loader) once(file string, root *yaml.Node, key string, at **Pos) bool {
	k := keyNode(root, key)
	here := pos(file, k)
	if *at != nil {
		l.errorf(file, k, key, "%s is already set at %s; set it in one file only", key, where(**at))
		return false
	}
	*at = &here
	return true
}

// keyNode returns the key node of key in mapping n.
func keyNode(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i]
		}
	}
	return nil
}

// typed splits a {type: ..., options...} mapping into its type and the mapping of the options.
func (l *loader) typed(file string, n *yaml.Node, path string) (typ string, typeNode, opts *yaml.Node, ok bool) {
	if n.Kind != yaml.MappingNode {
		l.errorf(file, n, path, "want a mapping with a type key, got %s", spec.Describe(n))
		return "", nil, nil, false
	}
	opts = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: n.Line, Column: n.Column}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Value != "type" {
			opts.Content = append(opts.Content, k, v)
			continue
		}
		if v.Kind != yaml.ScalarNode || v.Value == "" {
			l.errorf(file, v, path+".type", "want a type name, got %s", spec.Describe(v))
			return "", nil, nil, false
		}
		typ, typeNode = v.Value, v
	}
	if typeNode == nil {
		l.errorf(file, n, path, "missing required key \"type\"")
		return "", nil, nil, false
	}
	return typ, typeNode, opts, true
}

// newConfig returns a fresh value of the type that a factory's Config points to.
func newConfig(zero any) any {
	if zero == nil {
		return &struct{}{}
	}
	return reflect.New(reflect.TypeOf(zero).Elem()).Interface()
}

// plugin decodes a transport or a store section.
func plugin[F any](l *loader, file string, n *yaml.Node, path string, reg *registry.Registry[F], config func(F) any) Plugin {
	typ, typeNode, opts, ok := l.typed(file, n, path)
	if !ok {
		return Plugin{}
	}
	f, found := lookup(reg, typ)
	if !found {
		l.errorf(file, typeNode, path+".type", "unknown %s %q; known: %s", kindOf(reg, path), typ, known(reg))
		return Plugin{}
	}
	cfg := newConfig(config(f))
	l.errs = append(l.errs, spec.Decode(file, opts, path, cfg)...)
	return Plugin{Type: typ, Config: cfg}
}

// lookup is Registry.Lookup that tolerates a nil registry.
func lookup[F any](reg *registry.Registry[F], name string) (F, bool) {
	if reg == nil {
		var zero F
		return zero, false
	}
	return reg.Lookup(name)
}

func names[F any](reg *registry.Registry[F]) []string {
	if reg == nil {
		return nil
	}
	return reg.Names()
}

func known[F any](reg *registry.Registry[F]) string {
	if n := names(reg); len(n) > 0 {
		return strings.Join(n, ", ")
	}
	return "none registered"
}

func kindOf[F any](reg *registry.Registry[F], fallback string) string {
	if reg == nil {
		return fallback + " type"
	}
	return reg.Kind()
}

func (l *loader) connector(file, baseDir string, k, v *yaml.Node) {
	name := k.Value
	path := "connectors." + name
	if !namePattern.MatchString(name) {
		l.errorf(file, k, path, "invalid connector name %q: use %s", name, nameRule)
	}
	if at, dup := l.connAt[name]; dup {
		l.errorf(file, k, path, "connector %q is already declared at %s", name, where(at))
		return
	}
	l.connAt[name] = pos(file, k)
	typ, typeNode, opts, ok := l.typed(file, v, path)
	if !ok {
		l.connType[name] = ""
		return
	}
	l.connType[name] = typ
	f, found := lookup(l.cat.Connectors, typ)
	if !found {
		l.errorf(file, typeNode, path+".type", "unknown connector type %q; known: %s", typ, known(l.cat.Connectors))
		return
	}
	cfg := newConfig(f.Config)
	l.errs = append(l.errs, spec.Decode(file, opts, path, cfg)...)
	l.cfg.Connectors[name] = Connector{Name: name, Type: typ, Config: cfg, BaseDir: baseDir, Pos: pos(file, k)}
}

func (l *loader) route(file, baseDir string, i int, n *yaml.Node) {
	path := fmt.Sprintf("routes[%d]", i)
	var r routeShape
	l.errs = append(l.errs, spec.Decode(file, n, path, &r)...)
	if n.Kind != yaml.MappingNode {
		return
	}
	if r.Name != "" {
		nameNode := spec.Lookup(n, "name")
		if !namePattern.MatchString(r.Name) {
			l.errorf(file, nameNode, path+".name", "invalid route name %q: use %s", r.Name, nameRule)
		}
		if at, dup := l.routeAt[r.Name]; dup {
			l.errorf(file, nameNode, path+".name", "route %q is already declared at %s", r.Name, where(at))
		} else {
			l.routeAt[r.Name] = pos(file, n)
		}
	}
	if r.From != "" {
		l.refs = append(l.refs, ref{name: r.From, pos: pos(file, spec.Lookup(n, "from")), path: path + ".from", inline: r.Inline, route: r.Name})
	}
	steps := l.steps(file, baseDir, r.Steps, path, "")
	to := l.targets(file, r.To, path+".to")
	noTo := r.To == nil || (r.To.Kind == yaml.SequenceNode && len(r.To.Content) == 0) // a malformed to is reported by targets
	if noTo && !hasSwitch(steps) {
		l.errorf(file, n, path, "missing \"to\": a route delivers to a connector or a list of them, unless it has a switch step")
	}
	l.cfg.Routes = append(l.cfg.Routes, Route{
		Name: r.Name, From: r.From, Steps: steps, To: to, OnError: r.OnError,
		Timeout: r.Timeout, Prefetch: r.Prefetch, MaxInFlightBytes: int64(r.MaxInFlightBytes), Inline: r.Inline, BaseDir: baseDir, Path: path, Pos: pos(file, n),
	})
}

func hasSwitch(steps []Step) bool {
	for _, s := range steps {
		if s.Name == "switch" {
			return true
		}
	}
	return false
}

// steps decodes a list of steps; path is the full path of the list's owner ("routes[0]") and rel
// the path relative to the route ("" or "steps[1].switch.cases[0]").
func (l *loader) steps(file, baseDir string, nodes []yaml.Node, path, rel string) []Step {
	var out []Step
	for i := range nodes {
		n := &nodes[i]
		r := fmt.Sprintf("steps[%d]", i)
		if rel != "" {
			r = rel + "." + r
		}
		p := path + "." + fmt.Sprintf("steps[%d]", i)
		if n.Kind != yaml.MappingNode || len(n.Content) != 2 {
			msg := "want a mapping of one key, the step's name, to its options; got " + spec.Describe(n)
			if n.Kind == yaml.MappingNode {
				msg = fmt.Sprintf("a step is a mapping of one key, the step's name, to its options; got %d keys: %s (write each step as its own list item)",
					len(n.Content)/2, strings.Join(mapKeys(n), ", "))
			}
			l.errorf(file, n, p, "%s", msg)
			continue
		}
		k, v := n.Content[0], n.Content[1]
		name := k.Value
		step := Step{Name: name, Path: r, Pos: pos(file, k)}
		if name == "switch" {
			step.Config = l.switchStep(file, baseDir, v, p+".switch", r+".switch")
			out = append(out, step)
			continue
		}
		f, found := lookup(l.cat.Steps, name)
		if !found {
			l.errorf(file, k, p, "unknown step %q; known: %s", name, strings.Join(append(names(l.cat.Steps), "switch"), ", "))
			continue
		}
		cfg := newConfig(f.Config)
		l.errs = append(l.errs, spec.Decode(file, v, p+"."+name, cfg)...)
		step.Config = cfg
		out = append(out, step)
	}
	return out
}

func mapKeys(n *yaml.Node) []string {
	var out []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		out = append(out, n.Content[i].Value)
	}
	return out
}

func (l *loader) switchStep(file, baseDir string, n *yaml.Node, path, rel string) *Switch {
	var s switchShape
	l.errs = append(l.errs, spec.Decode(file, n, path, &s)...)
	sw := &Switch{}
	for i, c := range s.Cases {
		cp, cr := fmt.Sprintf("%s.cases[%d]", path, i), fmt.Sprintf("%s.cases[%d]", rel, i)
		sw.Cases = append(sw.Cases, Case{When: c.When, Branch: Branch{
			Steps: l.steps(file, baseDir, c.Steps, cp, cr),
			To:    l.targets(file, c.To, cp+".to"),
		}})
	}
	if s.Default != nil {
		sw.Default = &Branch{
			Steps: l.steps(file, baseDir, s.Default.Steps, path+".default", rel+".default"),
			To:    l.targets(file, s.Default.To, path+".default.to"),
		}
	}
	return sw
}

// targets reads a to: one connector name or a list of them.
func (l *loader) targets(file string, n *yaml.Node, path string) []string {
	if n == nil {
		return nil
	}
	one := func(v *yaml.Node, p string) string {
		if v.Kind != yaml.ScalarNode || v.Value == "" {
			l.errorf(file, v, p, "want a connector name, got %s", spec.Describe(v))
			return ""
		}
		l.refs = append(l.refs, ref{name: v.Value, pos: pos(file, v), path: p, sink: true})
		return v.Value
	}
	switch n.Kind {
	case yaml.ScalarNode:
		if name := one(n, path); name != "" {
			return []string{name}
		}
	case yaml.SequenceNode:
		var out []string
		for i, v := range n.Content {
			if name := one(v, fmt.Sprintf("%s[%d]", path, i)); name != "" {
				out = append(out, name)
			}
		}
		return out
	default:
		l.errorf(file, n, path, "want a connector name or a list of them, got %s", spec.Describe(n))
	}
	return nil
}
