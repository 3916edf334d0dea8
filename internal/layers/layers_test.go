package layers

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/aiskao/aiskao"

// deps lists, for every package of the module, the module's packages it depends on (directly or
// not), by path relative to the module.
func deps(t *testing.T) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps=false", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`, module+"/...").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	m := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		pkg := rel(f[0])
		m[pkg] = nil
		for _, d := range f[1:] {
			if d == module || strings.HasPrefix(d, module+"/") {
				m[pkg] = append(m[pkg], rel(d))
			}
		}
	}
	return m
}

func rel(p string) string { return strings.TrimPrefix(strings.TrimPrefix(p, module), "/") }

// under reports whether pkg is dir or below it.
func under(pkg string, dirs ...string) bool {
	for _, d := range dirs {
		if pkg == d || strings.HasPrefix(pkg, d+"/") {
			return true
		}
	}
	return false
}

func TestDependencyDirection(t *testing.T) {
	all := deps(t)
	// The listing must see the module: the binary depends on the engine.
	if !contains(all["cmd/aiskao"], "hub") || !contains(all["connectors/esoed"], "connectors/esoed/docflow") {
		t.Fatalf("go list gave %d packages, without the expected dependencies", len(all))
	}
	for pkg, ds := range all {
		if under(pkg, "dossier") && !under(pkg, "dossier/store", "dossier/api") {
			checkPure(t, pkg)
		}
		for _, d := range ds {
			switch {
			case under(d, "hub") && under(pkg, "connectors", "transforms", "esoed", "regix", "eauth", "identity", "store", "envelope", "fault", "spec", "transport", "routes", "internal"):
				t.Errorf("%s imports the engine (%s); it may use only the contracts: envelope, fault, store, spec, transport", pkg, d)
			case under(d, "cmd"):
				t.Errorf("%s imports %s; nothing imports cmd", pkg, d)
			case under(pkg, "esoed", "regix", "eauth") && !under(d, "internal", "esoed", "regix", "eauth") &&
				!(under(pkg, "eauth") && (d == "dossier/ident" || contains(all["dossier/ident"], d))):
				// eauth checks the ЕГН of a personIdentifier with dossier/ident, and so depends on
				// what that pure package depends on, rather than keep a second copy of the check.
				t.Errorf("protocol library %s imports %s; it may import only internal/ and the other protocol libraries", pkg, d)
			case under(pkg, "envelope", "fault", "spec") && !under(d, "internal", "envelope", "fault", "spec"):
				t.Errorf("contract %s imports %s", pkg, d)
			case (pkg == "store" || pkg == "transport") && !under(d, "internal", "envelope", "fault", "spec"):
				t.Errorf("contract %s imports %s", pkg, d)
			case under(pkg, "dossier") && !under(pkg, "dossier/store", "dossier/api") && !under(d, "dossier", "internal", "envelope", "fault", "spec"):
				t.Errorf("dossier domain %s imports %s; it may import only the dossier domain, internal/ and the contracts", pkg, d)
			case under(pkg, "dossier/api") && !under(d, "dossier", "internal", "envelope", "fault", "spec", "store", "identity"):
				t.Errorf("dossier API %s imports %s; it may import only the dossier core, identity, internal/ and the contracts", pkg, d)
			case under(pkg, "dossier/api") && under(d, "dossier/store/sqlite", "dossier/store/postgres"):
				t.Errorf("%s imports the store implementation %s; it uses only the store contract", pkg, d)
			case under(pkg, "dossier/core") && under(d, "dossier/store/sqlite", "dossier/store/postgres"):
				t.Errorf("%s imports the store implementation %s; it uses only the store contract", pkg, d)
			case under(pkg, "transforms") && under(d, "connectors") && d != "connectors":
				t.Errorf("transform %s imports connector %s; steps reach connectors through the registry", pkg, d)
			}
			if c, dc := connector(pkg), connector(d); c != "" && dc != "" && c != dc && dc != "connectortest" && c != "all" {
				t.Errorf("connector %s imports connector %s", pkg, d)
			}
		}
	}
}

// connector returns the connector type a package belongs to (connectors/<type>/...), or "".
func connector(pkg string) string {
	rest, ok := strings.CutPrefix(pkg, "connectors/")
	if !ok {
		return ""
	}
	c, _, _ := strings.Cut(rest, "/")
	return c
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// checkPure fails when a package of the dossier domain imports HTTP, SQL or
// messaging from the standard library or any module.
func checkPure(t *testing.T, pkg string) {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", `{{join .Imports " "}}`, module+"/"+pkg).Output()
	if err != nil {
		t.Fatalf("go list %s: %v", pkg, err)
	}
	for _, imp := range strings.Fields(string(out)) {
		for _, banned := range []string{"net/http", "database/sql", "net/smtp", "github.com/jackc/", "modernc.org/sqlite", "github.com/ThreeDotsLabs/", "github.com/rabbitmq/", "github.com/go-sql-driver/"} {
			if imp == banned || strings.HasPrefix(imp, banned+"/") || (strings.HasSuffix(banned, "/") && strings.HasPrefix(imp, banned)) {
				t.Errorf("dossier domain %s imports %s; the domain imports no HTTP, SQL or messaging", pkg, imp)
			}
		}
	}
}
