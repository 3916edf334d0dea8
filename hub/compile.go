package hub

import (
	"errors"
	"fmt"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/routes"
	"github.com/aiskao/aiskao/store"
	"github.com/aiskao/aiskao/transforms"
)

// newPipeline compiles a route's steps once: expressions, schemas and templates are prepared here,
// not per message. sinkFor gives the sink of a connector name.
func newPipeline(r routes.Route, opts Options, sinkFor func(string) (connectors.Sink, error),
	callerFor func(string) (connectors.Caller, error), journal store.Journal) (*pipeline, error) {
	env := transforms.Env{BaseDir: r.BaseDir, Logger: opts.Logger.With("route", r.Name), Route: r.Name,
		Caller: callerFor, Journal: journal}
	c := compiler{cat: opts.Catalog, env: env, sinkFor: sinkFor}
	nodes, err := c.nodes(r.Steps)
	if err != nil {
		return nil, fmt.Errorf("hub: route %q: %w", r.Name, err)
	}
	to, err := c.sinks("", r.To)
	if err != nil {
		return nil, fmt.Errorf("hub: route %q: %w", r.Name, err)
	}
	return &pipeline{route: r.Name, nodes: nodes, to: to, timeout: r.Timeout.D()}, nil
}

type compiler struct {
	cat     routes.Catalog
	env     transforms.Env
	sinkFor func(string) (connectors.Sink, error)
}

func (c compiler) nodes(steps []routes.Step) ([]node, error) {
	out := make([]node, 0, len(steps))
	for _, s := range steps {
		n := node{path: s.Path + "." + s.Name}
		if sw, ok := s.Config.(*routes.Switch); ok {
			compiled, err := c.switchNode(s.Path+".switch", sw)
			if err != nil {
				if errors.As(err, new(stepErr)) || errors.As(err, new(connectorErr)) {
					return nil, err
				}
				return nil, stepErr{s, err}
			}
			n.sw = compiled
			out = append(out, n)
			continue
		}
		f, ok := c.cat.Steps.Lookup(s.Name)
		if !ok {
			return nil, fmt.Errorf("%s: unknown step %q", s.Path, s.Name)
		}
		st, err := f.New(s.Config, c.env)
		if err != nil {
			return nil, stepErr{s, err}
		}
		n.step = st
		if sp, ok := st.(transforms.Splitter); ok {
			n.split = sp
		}
		out = append(out, n)
	}
	return out, nil
}

func (c compiler) switchNode(path string, sw *routes.Switch) (*switchNode, error) {
	s := &switchNode{}
	for i, cs := range sw.Cases {
		cond, err := transforms.NewCondition(cs.When.XPath, cs.When.Expr, cs.When.Namespaces)
		if err != nil {
			return nil, fmt.Errorf("%s.cases[%d].when: %w", path, i, err)
		}
		b, err := c.branch(fmt.Sprintf("%s.cases[%d]", path, i), cs.Branch)
		if err != nil {
			return nil, err
		}
		s.cases = append(s.cases, switchCase{cond: cond, branch: b})
	}
	if sw.Default != nil {
		b, err := c.branch(path+".default", *sw.Default)
		if err != nil {
			return nil, err
		}
		s.def = &b
	}
	return s, nil
}

func (c compiler) branch(path string, b routes.Branch) (branch, error) {
	nodes, err := c.nodes(b.Steps)
	if err != nil {
		return branch{}, err
	}
	to, err := c.sinks(path+".", b.To)
	if err != nil {
		return branch{}, err
	}
	return branch{nodes: nodes, to: to}, nil
}

func (c compiler) sinks(prefix string, names []string) ([]sinkRef, error) {
	out := make([]sinkRef, 0, len(names))
	for i, name := range names {
		ref := sinkRef{path: fmt.Sprintf("%sto[%d].%s", prefix, i, name), name: name}
		if c.sinkFor != nil {
			s, err := c.sinkFor(name)
			if err != nil {
				return nil, connectorErr{name, err}
			}
			ref.sink = s
		}
		out = append(out, ref)
	}
	return out, nil
}
