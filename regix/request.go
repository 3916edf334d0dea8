package regix

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"sort"
	"strings"
)

// BuildRequest builds the operation's request document from parameter
// values keyed by parameter name: the root element in the request
// namespace with one child element a parameter, in the operation's order.
// Empty optional parameters are left out. The document is validated against
// the request schema before it is returned; the error then names the
// element path and the rule broken.
func (op *Operation) BuildRequest(params map[string]string) ([]byte, error) {
	known := map[string]bool{}
	for _, p := range op.Params {
		known[p.Name] = true
	}
	var unknown []string
	for k := range params {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("regix: %s: unknown parameter %s (expected %s)", op.Code, strings.Join(unknown, ", "), op.paramNames())
	}
	var b bytes.Buffer
	b.WriteString(xml.Header)
	fmt.Fprintf(&b, "<%s xmlns=\"", op.RequestElement)
	xml.EscapeText(&b, []byte(op.RequestNamespace))
	b.WriteString("\">")
	// open holds the elements of complex parameters written and not yet
	// closed: a value's element path is opened from where it parts from
	// the previous value's, so the values of one complex parameter share
	// its element.
	var open []xml.Name
	for _, p := range op.Params {
		v, ok := params[p.Name]
		if !ok || v == "" {
			if p.Required {
				return nil, fmt.Errorf("regix: %s: parameter %s (%s) is required", op.Code, p.Name, p.Label)
			}
			continue
		}
		path := p.path
		if len(path) == 0 { // a Param made without the catalogue
			path = []xml.Name{{Space: op.RequestNamespace, Local: p.Name}}
		}
		parents := path[:len(path)-1]
		shared := 0
		for shared < len(open) && shared < len(parents) && open[shared] == parents[shared] {
			shared++
		}
		for i := len(open) - 1; i >= shared; i-- {
			fmt.Fprintf(&b, "</%s>", open[i].Local)
		}
		open = append(open[:shared], parents[shared:]...)
		for i := shared; i < len(parents); i++ {
			writeStart(&b, parents[i], nsAt(op, path, i))
		}
		leaf := path[len(path)-1]
		writeStart(&b, leaf, nsAt(op, path, len(path)-1))
		if err := xml.EscapeText(&b, []byte(v)); err != nil {
			return nil, fmt.Errorf("regix: %s: parameter %s: %w", op.Code, p.Name, err)
		}
		fmt.Fprintf(&b, "</%s>", leaf.Local)
	}
	for i := len(open) - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "</%s>", open[i].Local)
	}
	fmt.Fprintf(&b, "</%s>\n", op.RequestElement)
	if err := op.request.Validate(bytes.NewReader(b.Bytes())); err != nil {
		return nil, fmt.Errorf("regix: %s: request: %w", op.Code, err)
	}
	return b.Bytes(), nil
}

// nsAt is the namespace in scope for the element path[i]: its parent's.
func nsAt(op *Operation, path []xml.Name, i int) string {
	if i == 0 {
		return op.RequestNamespace
	}
	return path[i-1].Space
}

// writeStart writes the start tag of el, declaring its namespace when it
// differs from the one in scope.
func writeStart(b *bytes.Buffer, el xml.Name, scope string) {
	if el.Space == scope {
		fmt.Fprintf(b, "<%s>", el.Local)
		return
	}
	fmt.Fprintf(b, "<%s xmlns=\"", el.Local)
	xml.EscapeText(b, []byte(el.Space))
	b.WriteString("\">")
}

func (op *Operation) paramNames() string {
	names := make([]string, len(op.Params))
	for i, p := range op.Params {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}
