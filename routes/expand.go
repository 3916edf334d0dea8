package routes

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/aiskao/aiskao/spec"
)

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// expandEnv replaces ${NAME} and ${NAME:-default} in data with the environment's values, before
// the YAML is parsed, so that a value may be any YAML (a number, a list). It works within each
// line, so line numbers stay those of the file; lines whose first non-blank character is # are
// comments and stay as they are. $$ stands for a literal $; a $ followed by anything else than {
// or $ is kept. ${NAME} for an unset variable is an error; ${NAME:-default} gives default when
// the variable is unset or empty.
func expandEnv(file string, data []byte) ([]byte, spec.Errors) {
	var errs spec.Errors
	var out bytes.Buffer
	out.Grow(len(data))
	for i, line := range bytes.SplitAfter(data, []byte("\n")) {
		if t := bytes.TrimLeft(line, " \t"); len(t) > 0 && t[0] == '#' {
			out.Write(line)
			continue
		}
		for j := 0; j < len(line); j++ {
			c := line[j]
			if c != '$' || j+1 == len(line) {
				out.WriteByte(c)
				continue
			}
			switch line[j+1] {
			case '$':
				out.WriteByte('$')
				j++
				continue
			case '{':
			default:
				out.WriteByte(c)
				continue
			}
			end := bytes.IndexByte(line[j:], '}')
			if end < 0 {
				errs = append(errs, spec.Error{File: file, Line: i + 1, Col: j + 1,
					Msg: "unclosed ${: write ${NAME} or ${NAME:-default}, or $$ for a literal $"})
				out.Write(line[j:])
				break
			}
			ref := string(line[j+2 : j+end])
			name, def, hasDef := strings.Cut(ref, ":-")
			switch v, set := os.LookupEnv(name); {
			case !envName.MatchString(name):
				errs = append(errs, spec.Error{File: file, Line: i + 1, Col: j + 1,
					Msg: fmt.Sprintf("invalid environment variable name %q in ${%s}", name, ref)})
			case hasDef && v == "":
				out.WriteString(def)
			case set:
				out.WriteString(v)
			default:
				errs = append(errs, spec.Error{File: file, Line: i + 1, Col: j + 1,
					Msg: fmt.Sprintf("environment variable %s is not set; set it or write ${%s:-default}", name, name)})
			}
			j += end
		}
	}
	return out.Bytes(), errs
}
