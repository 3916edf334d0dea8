package identity

import (
	"slices"
	"strings"
)

// RoleMatrix returns the role matrix as a Markdown page: one row per role, one column per
// permission. docs/roles.md is this page, kept in step by a test.
func RoleMatrix() string {
	perms := AllPermissions()
	var b strings.Builder
	b.WriteString("# Roles and permissions\n\n")
	b.WriteString("Generated from `identity` by `go test ./identity -run RoleMatrixDoc -update`; do not edit.\n\n")
	b.WriteString("A principal (a person signed in, or a machine with an API token, a certificate or a bearer token)\n")
	b.WriteString("holds roles; each role grants the permissions marked. People may hold every role but integrator;\n")
	b.WriteString("API tokens only operator, auditor and integrator. Tasks given to a position reach whoever holds it\n")
	b.WriteString("(`identity/org`).\n\n")
	b.WriteString("| role | person | token |")
	for _, p := range perms {
		b.WriteString(" " + string(p) + " |")
	}
	b.WriteString("\n|---|---|---|" + strings.Repeat("---|", len(perms)) + "\n")
	people := PersonRoles()
	for _, r := range AllRoles() {
		b.WriteString("| " + string(r) + " | " + mark(slices.Contains(people, r)) + " | " + mark(slices.Contains(Roles(), r)) + " |")
		for _, p := range perms {
			b.WriteString(" " + mark(r.Grants(p)) + " |")
		}
		b.WriteString("\n")
	}
	b.WriteString("\n## Permissions\n\n")
	for _, p := range perms {
		var who []string
		for _, r := range AllRoles() {
			if r.Grants(p) {
				who = append(who, string(r))
			}
		}
		b.WriteString("- `" + string(p) + "`: " + strings.Join(who, ", ") + "\n")
	}
	return b.String()
}

func mark(ok bool) string {
	if ok {
		return "✓"
	}
	return ""
}
