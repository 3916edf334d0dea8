package mapping

import (
	"context"
	"fmt"

	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/transforms"
)

func init() {
	transforms.Register(transforms.Factory{
		Name: "filter",
		Doc: "Keeps the message when a condition holds and drops it otherwise (a dropped message goes no " +
			"further and is not an error). The condition is either an XPath expression over the XML " +
			"payload, true when it selects a node or gives true, a non-zero number or a non-empty string, " +
			"or an expr expression over {meta, body} giving a boolean.",
		Config: &FilterOptions{},
		New:    newFilter,
	})
}

// FilterOptions configures filter; exactly one of xpath and expr is set.
type FilterOptions struct {
	XPath      string            `yaml:"xpath" doc:"XPath condition over the XML payload." example:"/m:Message/m:Header/m:MessageType = 'MSG_DocumentRegistrationRequest'"`
	Namespaces map[string]string `yaml:"namespaces" doc:"Prefixes used in xpath, mapped to namespace URIs." example:"{m: \"http://schemas.egov.bg/messaging/v1\"}"`
	Expr       string            `yaml:"expr" doc:"Boolean expr condition over meta and body." example:"meta.type == \"esoed.DocumentRegistrationRequest\""`
}

// Validate checks that exactly one condition is set and that it compiles.
func (o *FilterOptions) Validate() error {
	_, err := o.condition()
	return err
}

func (o *FilterOptions) condition() (transforms.Condition, error) {
	switch {
	case o.XPath == "" && o.Expr == "":
		return nil, spec.FieldErrorf("expr", "set xpath or expr")
	case o.XPath != "" && o.Expr != "":
		return nil, spec.FieldErrorf("expr", "set xpath or expr, not both")
	}
	c, err := transforms.NewCondition(o.XPath, o.Expr, o.Namespaces)
	if err != nil {
		field := "expr"
		if o.XPath != "" {
			field = "xpath"
		}
		return nil, spec.FieldErrorf(field, "%v", err)
	}
	return c, nil
}

type filterStep struct{ cond transforms.Condition }

func newFilter(cfg any, _ transforms.Env) (transforms.Step, error) {
	c, err := cfg.(*FilterOptions).condition()
	if err != nil {
		return nil, err
	}
	return &filterStep{c}, nil
}

// Apply drops the message unless the condition holds.
func (s *filterStep) Apply(_ context.Context, m *transforms.Message) error {
	ok, err := s.cond.Match(m)
	if err != nil {
		return fmt.Errorf("filter: %w", err)
	}
	if !ok {
		m.Drop()
	}
	return nil
}
