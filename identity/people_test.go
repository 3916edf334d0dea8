package identity

import (
	"flag"
	"os"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/roles.md from the code")

// The people's roles grant what the role matrix says, and only people may hold them.
func TestPeopleRoles(t *testing.T) {
	cases := []struct {
		role       Role
		can, canot []Permission
	}{
		{Citizen, []Permission{"applications.submit", DossiersReadOwn}, []Permission{"dossiers.read", PersonalDataRead, TasksWork}},
		{Clerk, []Permission{ApplicationsRegister, "dossiers.read", "dossiers.write", PersonalDataRead, TasksWork}, []Permission{TasksAssign, UsersManage}},
		{Expert, []Permission{"dossiers.write", TasksWork}, []Permission{ApplicationsRegister, TasksAssign}},
		{HeadOfUnit, []Permission{TasksAssign, TasksWork}, []Permission{UsersManage, RolesManage}},
		{Administrator, []Permission{UsersManage, UnitsManage, ServicesManage, "dossiers.read"}, []Permission{RolesManage, PersonalDataRead, "dossiers.write"}},
		{SecurityOfficer, []Permission{RolesManage, JournalRead, SessionsRevoke}, []Permission{UsersManage, "dossiers.read"}},
		{Operator, []Permission{DeadLettersReplay}, []Permission{UsersManage}},
	}
	for _, c := range cases {
		for _, p := range c.can {
			if !c.role.Grants(p) || !slices.Contains(c.role.Permissions(), p) {
				t.Errorf("%s does not grant %s", c.role, p)
			}
		}
		for _, p := range c.canot {
			if c.role.Grants(p) {
				t.Errorf("%s grants %s", c.role, p)
			}
		}
	}
	if _, err := ParsePersonRole("root"); err == nil || err.Error() != `role "root" is not one of administrator, auditor, citizen, clerk, expert, head_of_unit, operator, security_officer` {
		t.Errorf("ParsePersonRole(root): %v", err)
	}
	if r, err := ParsePersonRole("auditor"); err != nil || r != Auditor {
		t.Errorf("ParsePersonRole(auditor) = %v, %v", r, err)
	}
	if _, err := ParsePersonRole("integrator"); err == nil {
		t.Error("a person may be an integrator")
	}
	if _, err := ParseRole("clerk"); err == nil {
		t.Error("an API token may be a clerk")
	}
	p := Principal{Name: "ivan", Kind: KindPerson, Roles: []Role{Clerk}, Positions: []string{"front-1"}}
	if !p.Can(ApplicationsRegister) || p.Can(UsersManage) {
		t.Errorf("principal %v", p)
	}
}

// docs/roles.md is the role matrix as the code has it; go test -update rewrites it.
func TestRoleMatrixDoc(t *testing.T) {
	const path = "../docs/roles.md"
	got := RoleMatrix()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./identity -run RoleMatrixDoc -update writes it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the roles in the code; run go test ./identity -run RoleMatrixDoc -update", path)
	}
	for _, r := range AllRoles() {
		if !strings.Contains(got, "| "+string(r)+" |") {
			t.Errorf("the matrix has no row for %s", r)
		}
	}
}
