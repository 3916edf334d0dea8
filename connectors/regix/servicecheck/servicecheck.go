// Package servicecheck checks a service catalogue against the RegiX operations
// catalogue: an ex officio item from a register can be requested only if its
// operation exists, its query names only parameters of that operation, and it
// gives every parameter the operation requires. The service loader cannot check
// this itself, since the dossier domain does not know the registers; the
// configuration tests and `aiskao validate` both use this package.
package servicecheck

import (
	"fmt"
	"sort"
	"strings"

	"github.com/aiskao/aiskao/dossier/service"
	"github.com/aiskao/aiskao/regix"
	"github.com/aiskao/aiskao/spec"
)

// Operations finds a register operation by its code or full name;
// *regix.Operations is one.
type Operations interface {
	Lookup(codeOrName string) (*regix.Operation, bool)
}

// Check returns what is wrong with the register items of s, each with the path
// of the field ("checklist[2].query.EGN") and file as the file name. Values of
// the query are checked by the service loader (each is "applicant" or a field
// of the service); Check sees that the parameters they fill exist.
func Check(file string, s *service.Service, ops Operations) spec.Errors {
	var errs spec.Errors
	add := func(path, format string, args ...any) {
		errs = append(errs, spec.Error{File: file, Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	for i, it := range s.Checklist {
		if it.Source != service.FromRegister {
			continue
		}
		p := fmt.Sprintf("checklist[%d]", i)
		op, ok := ops.Lookup(it.Operation)
		if !ok {
			add(p+".operation", "item %q: no register operation %q in the RegiX catalogue", it.ID, it.Operation)
			continue
		}
		params := map[string]regix.Param{}
		for _, prm := range op.Params {
			params[prm.Name] = prm
		}
		for _, name := range sortedKeys(it.Query) {
			if _, ok := params[name]; !ok {
				add(p+".query."+name, "item %q: %s (%s) has no parameter %q; it takes %s", it.ID, op.Code, op.Register, name, paramNames(op.Params))
			}
		}
		for _, prm := range op.Params {
			if _, given := it.Query[prm.Name]; prm.Required && !given {
				add(p+".query", "item %q: %s (%s) requires parameter %s (%s), which the query does not give", it.ID, op.Code, op.Register, prm.Name, prm.Label)
			}
		}
	}
	return errs
}

func paramNames(ps []regix.Param) string {
	if len(ps) == 0 {
		return "none"
	}
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
