package hub

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/aiskao/aiskao/routes"
	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/store"
)

// buildRoutes builds every route's source, steps and sinks, and the callers its steps use: what
// serve builds before anything starts, and what Check builds without starting. It returns every
// problem found, each at the place in the configuration it concerns.
func (e *Engine) buildRoutes() spec.Errors {
	var errs spec.Errors
	failed := map[string]bool{} // connectors already reported
	for _, r := range e.cfg.Routes {
		if err := e.buildSource(r.From); err != nil {
			if !failed[r.From] {
				errs = append(errs, e.connectorError(r.From, "as a source", err))
				failed[r.From] = true
			}
			continue
		}
		p, err := newPipeline(r, e.opts, e.sink, e.caller, e.st)
		if err != nil {
			var ce connectorErr
			switch {
			case errors.As(err, &ce):
				if !failed[ce.name] {
					errs = append(errs, e.connectorError(ce.name, "as a sink", ce.err))
					failed[ce.name] = true
				}
			default:
				errs = append(errs, positioned(err, r))
				// The sinks come after the steps: build them too, to report them at once.
				for _, name := range r.To {
					if _, err := e.sink(name); err != nil && !failed[name] {
						errs = append(errs, e.connectorError(name, "as a sink", err))
						failed[name] = true
					}
				}
			}
			continue
		}
		p.metrics = e.opts.Metrics.forRoute(r.Name)
		e.pipes[r.Name] = p
		e.topicsOf[r.From] = append(e.topicsOf[r.From], Topic(r.Name))
	}
	if err := e.opsClash(); err != nil {
		errs = append(errs, *err)
	}
	errs.Sort()
	return errs
}

// opsClash reports an operations API set on the address of the sources' HTTP server: serve
// binds them separately, so the second would fail once the hub had started.
func (e *Engine) opsClash() *spec.Error {
	ops := e.cfg.Ops.Listen
	if ops == "" {
		return nil
	}
	for addr := range e.servers {
		if sameAddress(ops, addr) {
			p := e.cfg.Ops.Pos
			return &spec.Error{File: p.File, Line: p.Line, Col: p.Col, Path: "ops.listen",
				Msg: fmt.Sprintf("%s is also where http sources listen (%s); give the operations API an address of its own", ops, addr)}
		}
	}
	return nil
}

// sameAddress reports whether two listen addresses bind one port: the same host, or a wildcard
// host on either side.
func sameAddress(a, b string) bool {
	ha, pa, erra := net.SplitHostPort(a)
	hb, pb, errb := net.SplitHostPort(b)
	if erra != nil || errb != nil {
		return a == b
	}
	if pa != pb || pa == "0" {
		return false
	}
	wild := func(h string) bool { return h == "" || h == "0.0.0.0" || h == "::" }
	return ha == hb || wild(ha) || wild(hb)
}

// connectorErr is a connector that could not be built as a sink, from a route's pipeline.
type connectorErr struct {
	name string
	err  error
}

func (c connectorErr) Error() string { return fmt.Sprintf("connector %q: %v", c.name, c.err) }
func (c connectorErr) Unwrap() error { return c.err }

// connectorError places the failure to build a connector at its declaration.
func (e *Engine) connectorError(name, role string, err error) spec.Error {
	c := e.cfg.Connectors[name]
	msg := strings.TrimPrefix(err.Error(), "hub: ")
	msg = strings.TrimPrefix(msg, fmt.Sprintf("connector %q: ", name))
	return spec.Error{File: c.Pos.File, Line: c.Pos.Line, Col: c.Pos.Col, Path: "connectors." + name,
		Msg: "cannot be built " + role + ": " + msg}
}

// stepErr is a step of a route that could not be built.
type stepErr struct {
	step routes.Step
	err  error
}

func (s stepErr) Error() string { return fmt.Sprintf("%s.%s: %v", s.step.Path, s.step.Name, s.err) }
func (s stepErr) Unwrap() error { return s.err }

// positioned places a route's build failure at the step it concerns, or at the route.
func positioned(err error, r routes.Route) spec.Error {
	var se stepErr
	if errors.As(err, &se) {
		return spec.Error{File: se.step.Pos.File, Line: se.step.Pos.Line, Col: se.step.Pos.Col,
			Path: r.Path + "." + se.step.Path + "." + se.step.Name, Msg: se.err.Error()}
	}
	return spec.Error{File: r.Pos.File, Line: r.Pos.Line, Col: r.Pos.Col, Path: r.Path, Msg: err.Error()}
}

// checkStore stands for the store while a configuration is only checked: connectors keep it to use
// when they run, which they never do then. Any other use is a mistake and panics.
type checkStore struct{ store.Store }

func (checkStore) Close() error { return nil }

// Check builds everything a configuration needs to run, as serve does before it starts: every
// connector as a source, sink or caller (their files exist and load: certificates, keys,
// registries), every route's steps (schemas, templates, XPaths and expressions compile). It
// opens no transport or store, listens on nothing, and creates no folders. It returns every
// problem found as spec.Errors, each at its file:line:col.
func Check(cfg *routes.Config, opts Options) (err error) {
	opts.defaults()
	dir, err := os.MkdirTemp("", "aiskao-check-")
	if err != nil {
		return fmt.Errorf("hub: check: %w", err)
	}
	defer os.RemoveAll(dir)
	opts.DataDir = dir
	e := newEngine(cfg, opts)
	e.check, e.st = true, checkStore{}
	defer e.closeResources()
	defer func() {
		// A connector that uses the store while it is built is a mistake of that connector;
		// say so rather than crash the check.
		if r := recover(); r != nil {
			err = fmt.Errorf("hub: check: a connector or step failed while being built: %v", r)
		}
	}()
	if errs := e.buildRoutes(); len(errs) > 0 {
		return errs
	}
	return nil
}
