package transforms

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/antchfx/xmlquery"
	"github.com/antchfx/xpath"
	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"

	"github.com/aiskao/aiskao/spec"
)

// Condition decides something about a message: whether a filter keeps it, which case of a switch
// takes it.
type Condition interface {
	Match(m *Message) (bool, error)
}

// NewCondition compiles a condition written either as an XPath expression over the XML payload
// (with namespaces mapping the prefixes it uses to URIs) or as an expr expression over
// {meta, body}. Exactly one of xpathExpr and exprExpr must be set.
//
// An XPath condition holds when the expression selects at least one node or evaluates to true, a
// non-zero number or a non-empty string. An expr condition must evaluate to a boolean.
func NewCondition(xpathExpr, exprExpr string, namespaces map[string]string) (Condition, error) {
	switch {
	case xpathExpr != "" && exprExpr != "":
		return nil, errors.New("condition: set either xpath or expr, not both")
	case xpathExpr != "":
		x, err := CompileXPath(xpathExpr, namespaces)
		if err != nil {
			return nil, err
		}
		return xpathCondition{x}, nil
	case exprExpr != "":
		e, err := CompileExpr(exprExpr, expr.AsBool())
		if err != nil {
			return nil, err
		}
		return exprCondition{e}, nil
	default:
		return nil, errors.New("condition: set one of xpath or expr")
	}
}

type xpathCondition struct{ x *XPath }

// Match is true when the expression selects a node or evaluates to true.
func (c xpathCondition) Match(m *Message) (bool, error) {
	doc, err := m.XML()
	if err != nil {
		return false, fmt.Errorf("xpath %s: %w", c.x, err)
	}
	if n, ok := c.x.First(doc); ok {
		return n != nil, nil
	}
	switch v := c.x.Evaluate(doc).(type) {
	case bool:
		return v, nil
	case float64:
		return v != 0 && !math.IsNaN(v), nil
	case string:
		return v != "", nil
	case *xpath.NodeIterator:
		return v.MoveNext(), nil
	default:
		return false, fmt.Errorf("xpath %s: unexpected result %T", c.x, v)
	}
}

type exprCondition struct{ e *Expr }

// Match is true when the expression evaluates to true.
func (c exprCondition) Match(m *Message) (bool, error) {
	v, err := c.e.Eval(m)
	if err != nil {
		return false, err
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("expr %q: result is %T, not a boolean", c.e.src, v)
	}
	return b, nil
}

// XPath is a compiled XPath expression that is safe for concurrent use. The library's compiled
// expressions keep evaluation state, so each evaluation borrows its own copy from a pool. A plain
// location path is also kept as its steps, which First walks without the library.
type XPath struct {
	src   string
	ns    map[string]string
	pool  sync.Pool
	plain plainPath
}

// CompileXPath compiles src once, resolving its prefixes with namespaces. The error names the
// expression and what is wrong with it.
func CompileXPath(src string, namespaces map[string]string) (*XPath, error) {
	if namespaces == nil {
		// A nil map would let a prefix match whatever prefix a document happens to use; an
		// empty one makes an undeclared prefix an error.
		namespaces = map[string]string{}
	}
	e, err := xpath.CompileWithNS(src, namespaces)
	if err != nil {
		msg := err.Error()
		var prefix string
		if _, err := fmt.Sscanf(msg, "prefix %s not defined.", &prefix); err == nil {
			msg = fmt.Sprintf("prefix %q is not declared in namespaces", strings.TrimSuffix(prefix, "."))
		}
		return nil, fmt.Errorf("invalid XPath %q: %s", src, msg)
	}
	x := &XPath{src: src, ns: namespaces, plain: parsePlain(src, namespaces)}
	x.pool.New = func() any {
		// src compiled once above, so compiling it again cannot fail.
		e, _ := xpath.CompileWithNS(src, namespaces)
		return e
	}
	x.pool.Put(e)
	return x, nil
}

// String returns the expression as written.
func (x *XPath) String() string { return x.src }

// Evaluate runs the expression with doc as the context node. The result is a bool, a float64, a
// string or an *xpath.NodeIterator over the selected nodes.
func (x *XPath) Evaluate(doc *xmlquery.Node) any {
	e := x.pool.Get().(*xpath.Expr)
	defer x.pool.Put(e)
	// Evaluate hands node sets out through a clone of its query, so the iterator stays valid
	// after e goes back to the pool.
	return e.Evaluate(xmlquery.CreateXPathNavigator(doc))
}

// Expr is a compiled expr-lang expression over the environment {meta, body}: meta is the message's
// metadata (map[string]string) and body its JSON payload (objects map[string]any, arrays []any,
// numbers int when whole and float64 otherwise, so that they compare with literals), or nil when
// the payload is not JSON. The payload is decoded only when the expression mentions body.
type Expr struct {
	src      string
	prog     *vm.Program
	usesBody bool
}

// ExprEnv is the environment expressions see.
type ExprEnv struct {
	Meta map[string]string `expr:"meta"`
	Body any               `expr:"body"`
}

// CompileExpr compiles src once against ExprEnv with the given extra options (expr.AsBool(), ...).
// The error names the expression and the first problem the compiler reports.
func CompileExpr(src string, opts ...expr.Option) (*Expr, error) {
	prog, err := expr.Compile(src, append([]expr.Option{expr.Env(ExprEnv{})}, opts...)...)
	if err != nil {
		msg, _, _ := strings.Cut(err.Error(), "\n")
		return nil, fmt.Errorf("invalid expression %q: %s", src, msg)
	}
	root := prog.Node()
	v := &bodyFinder{}
	ast.Walk(&root, v)
	return &Expr{src: src, prog: prog, usesBody: v.found}, nil
}

type bodyFinder struct{ found bool }

func (f *bodyFinder) Visit(n *ast.Node) {
	if id, ok := (*n).(*ast.IdentifierNode); ok && id.Value == "body" {
		f.found = true
	}
}

// NamedExpr is an expression under a name: a field, a metadata key, a parameter.
type NamedExpr struct {
	Name string
	Expr *Expr
}

// CompileNamed compiles the expressions of m in the order of their names, for the option field.
// Each that does not compile is an error at field.name; the others are returned, with whether
// any of them reads the JSON payload.
func CompileNamed(field string, m map[string]string) (out []NamedExpr, usesBody bool, errs []error) {
	for _, name := range slices.Sorted(maps.Keys(m)) {
		e, err := CompileExpr(m[name])
		if err != nil {
			errs = append(errs, spec.FieldErrorf(field+"."+name, "%v", err))
			continue
		}
		usesBody = usesBody || e.UsesBody()
		out = append(out, NamedExpr{name, e})
	}
	return out, usesBody, errs
}

// String returns the expression as written.
func (e *Expr) String() string { return e.src }

// UsesBody reports whether the expression reads the JSON payload.
func (e *Expr) UsesBody() bool { return e.usesBody }

// Env returns the environment for m, decoding the payload only when the expression needs it.
func (e *Expr) Env(m *Message) ExprEnv { return NewExprEnv(m, e.usesBody) }

// NewExprEnv returns the environment for m, with the JSON payload as body when withBody is set
// and the payload is JSON. Steps with several expressions build it once for all of them.
func NewExprEnv(m *Message, withBody bool) ExprEnv {
	env := ExprEnv{Meta: m.Metadata}
	if withBody {
		if v, err := m.JSON(); err == nil {
			env.Body = exprValue(v)
		}
	}
	return env
}

// Eval runs the expression over m.
func (e *Expr) Eval(m *Message) (any, error) {
	return e.Run(e.Env(m))
}

// Run runs the expression over env, which lets several expressions share one environment.
func (e *Expr) Run(env ExprEnv) (any, error) {
	v, err := expr.Run(e.prog, env)
	if err != nil {
		msg, _, _ := strings.Cut(err.Error(), "\n")
		return nil, fmt.Errorf("expr %q: %s", e.src, msg)
	}
	return v, nil
}

// exprValue returns a decoded JSON value with json.Number turned into int or float64: expr
// compares numbers only of Go numeric types. Subtrees without numbers are shared, not copied, so
// a document of strings (the usual XML conversion) costs nothing.
func exprValue(v any) any {
	out, _ := exprValueChanged(v)
	return out
}

func exprValueChanged(v any) (any, bool) {
	switch v := v.(type) {
	case json.Number:
		if i, err := strconv.Atoi(string(v)); err == nil {
			return i, true
		}
		f, _ := v.Float64()
		return f, true
	case map[string]any:
		var out map[string]any
		for k, x := range v {
			if y, changed := exprValueChanged(x); changed {
				if out == nil {
					out = make(map[string]any, len(v))
					for k2, x2 := range v {
						out[k2] = x2
					}
				}
				out[k] = y
			}
		}
		if out == nil {
			return v, false
		}
		return out, true
	case []any:
		var out []any
		for i, x := range v {
			if y, changed := exprValueChanged(x); changed {
				if out == nil {
					out = make([]any, len(v))
					copy(out, v)
				}
				out[i] = y
			}
		}
		if out == nil {
			return v, false
		}
		return out, true
	default:
		return v, false
	}
}
