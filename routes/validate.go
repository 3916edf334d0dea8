package routes

import (
	"fmt"
	"sort"
	"strings"

	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/store"
	"github.com/aiskao/aiskao/transforms"
	"github.com/aiskao/aiskao/transport"
)

// Types used when the configuration does not set transport or store.
const (
	DefaultTransport = "embedded"
	DefaultStore     = "sqlite"
)

func transportConfig(f transport.Factory) any { return f.Config }
func storeConfig(f store.Factory) any         { return f.Config }

// finish applies the defaults of absent sections, checks what spans files (the connectors that
// routes name) and returns the configuration or every problem found.
func (l *loader) finish() (*Config, error) {
	first := ""
	if len(l.cfg.Files) > 0 {
		first = l.cfg.Files[0]
	}
	if l.transportAt == nil {
		l.cfg.Transport = l.defaultPlugin(first, "transport", DefaultTransport, func() (any, bool) {
			f, ok := lookup(l.cat.Transports, DefaultTransport)
			return f.Config, ok
		}, known(l.cat.Transports))
	}
	if l.storeAt == nil {
		l.cfg.Store = l.defaultPlugin(first, "store", DefaultStore, func() (any, bool) {
			f, ok := lookup(l.cat.Stores, DefaultStore)
			return f.Config, ok
		}, known(l.cat.Stores))
	}
	l.checkRefs()
	l.checkInline()
	if len(l.errs) > 0 {
		l.errs.Sort()
		return nil, l.errs
	}
	return l.cfg, nil
}

// defaultPlugin is the plugin of an absent transport or store section.
func (l *loader) defaultPlugin(file, section, typ string, find func() (any, bool), knownTypes string) Plugin {
	zero, ok := find()
	if !ok {
		l.errs = append(l.errs, spec.Error{File: file, Path: section, Msg: fmt.Sprintf(
			"no %s is set and the default type %q is not available; set %s.type to one of: %s",
			section, typ, section, knownTypes)})
		return Plugin{}
	}
	cfg := newConfig(zero)
	l.errs = append(l.errs, spec.Decode(file, nil, section, cfg)...)
	return Plugin{Type: typ, Config: cfg}
}

// checkRefs checks that every connector a route names is declared and can play its part.
func (l *loader) checkRefs() {
	declared := make([]string, 0, len(l.connType))
	for name := range l.connType {
		declared = append(declared, name)
	}
	sort.Strings(declared)
	for _, r := range l.refs {
		typ, ok := l.connType[r.name]
		if !ok {
			list := "no connectors are declared"
			if len(declared) > 0 {
				list = "declared: " + strings.Join(declared, ", ")
			}
			l.errs = append(l.errs, r.err(fmt.Sprintf("unknown connector %q; %s", r.name, list)))
			continue
		}
		f, ok := lookup(l.cat.Connectors, typ)
		if !ok {
			continue // its unknown type is reported where it is declared
		}
		switch {
		case r.sink && f.NewSink == nil:
			l.errs = append(l.errs, r.err(fmt.Sprintf("connector %q (type %s) cannot be a sink", r.name, typ)))
		case !r.sink && f.NewSource == nil:
			l.errs = append(l.errs, r.err(fmt.Sprintf("connector %q (type %s) cannot be a source", r.name, typ)))
		}
	}
}

// checkInline checks that the source of an inline route feeds that route alone: the route then
// runs within the source's call, which a message bound for several routes cannot.
func (l *loader) checkInline() {
	routesOf := map[string][]string{}
	for _, r := range l.refs {
		if !r.sink {
			routesOf[r.name] = append(routesOf[r.name], r.route)
		}
	}
	for _, r := range l.refs {
		if r.sink || !r.inline || len(routesOf[r.name]) < 2 {
			continue
		}
		l.errs = append(l.errs, r.err(fmt.Sprintf("inline: connector %q also feeds %s; an inline route needs a source of its own",
			r.name, strings.Join(others(routesOf[r.name], r.route), ", "))))
	}
}

// others returns the names of list other than name, each quoted.
func others(list []string, name string) []string {
	var out []string
	for _, n := range list {
		if n != name {
			out = append(out, fmt.Sprintf("route %q", n))
		}
	}
	return out
}

func (r ref) err(msg string) spec.Error {
	return spec.Error{File: r.pos.File, Line: r.pos.Line, Col: r.pos.Col, Path: r.path, Msg: msg}
}

// checkCondition compiles a switch case's condition; field is the condition's key.
func checkCondition(field string, c Condition) error {
	switch {
	case c.XPath == "" && c.Expr == "":
		return spec.FieldErrorf(field, "set one of xpath or expr")
	case c.XPath != "" && c.Expr != "":
		return spec.FieldErrorf(field, "set either xpath or expr, not both")
	case c.Expr != "" && len(c.Namespaces) > 0:
		return spec.FieldErrorf(field+".namespaces", "namespaces apply to xpath only")
	}
	if _, err := transforms.NewCondition(c.XPath, c.Expr, c.Namespaces); err != nil {
		key := field + ".xpath"
		if c.Expr != "" {
			key = field + ".expr"
		}
		return spec.FieldErrorf(key, "%s", strings.TrimPrefix(err.Error(), "condition: "))
	}
	return nil
}
