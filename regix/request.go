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
	for _, p := range op.Params {
		v, ok := params[p.Name]
		if !ok || v == "" {
			if p.Required {
				return nil, fmt.Errorf("regix: %s: parameter %s (%s) is required", op.Code, p.Name, p.Label)
			}
			continue
		}
		fmt.Fprintf(&b, "<%s>", p.Name)
		if err := xml.EscapeText(&b, []byte(v)); err != nil {
			return nil, fmt.Errorf("regix: %s: parameter %s: %w", op.Code, p.Name, err)
		}
		fmt.Fprintf(&b, "</%s>", p.Name)
	}
	fmt.Fprintf(&b, "</%s>\n", op.RequestElement)
	if err := op.request.Validate(bytes.NewReader(b.Bytes())); err != nil {
		return nil, fmt.Errorf("regix: %s: request: %w", op.Code, err)
	}
	return b.Bytes(), nil
}

func (op *Operation) paramNames() string {
	names := make([]string, len(op.Params))
	for i, p := range op.Params {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}
