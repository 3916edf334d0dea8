package identity

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// The permissions of the people's applications: the portal, the clerks' application and the
// administration application. Each handler of them declares one.
const (
	// ApplicationsRegister lets a clerk of the front office register an application brought in
	// person, by post or by e-mail, on the applicant's behalf.
	ApplicationsRegister Permission = "applications.register"
	// DossiersReadOwn lets a citizen read the dossiers of their own applications, and nothing else.
	DossiersReadOwn Permission = "dossiers.read_own"
	// TasksWork lets a person take and complete the tasks that reach their positions.
	TasksWork Permission = "tasks.work"
	// TasksAssign lets a person give a task to a position or a person of their unit.
	TasksAssign Permission = "tasks.assign"
	// ServicesManage lets a person change the catalogue of services: steps, deadlines, fees.
	ServicesManage Permission = "services.manage"
	// UsersManage lets a person create, disable and enable staff accounts, reset their passwords
	// and give them positions.
	UsersManage Permission = "users.manage"
	// RolesManage lets a person give roles to accounts and take them away.
	RolesManage Permission = "roles.manage"
	// UnitsManage lets a person change the tree of units and their positions.
	UnitsManage Permission = "units.manage"
	// SessionsRevoke lets a person end other people's sessions (sign them out everywhere).
	SessionsRevoke Permission = "sessions.revoke"
)

// The roles people are given, besides Operator and Auditor, which people may hold too.
const (
	// Citizen applies for services, submits feedback and follows their own dossiers.
	Citizen Role = "citizen"
	// Clerk works at the front office: registers applications and works on dossiers and tasks,
	// seeing personal data, since they serve the applicant in person.
	Clerk Role = "clerk"
	// Expert works on the dossiers and tasks that reach their positions.
	Expert Role = "expert"
	// HeadOfUnit works as an expert does and gives the unit's tasks to its positions and people.
	HeadOfUnit Role = "head_of_unit"
	// Administrator keeps the catalogue of services, the units and the staff accounts, and reads
	// dossiers with personal data masked; giving roles is the security officer's.
	Administrator Role = "administrator"
	// SecurityOfficer gives and takes roles, reads the journal and ends other people's sessions;
	// it works on no dossier.
	SecurityOfficer Role = "security_officer"
)

// peopleGrants is what each people's role may do. Like grants, it is filled here and never
// changed.
var peopleGrants = map[Role][]Permission{
	Citizen:         {ApplicationsSubmit, FeedbackSubmit, DossiersReadOwn},
	Clerk:           {ApplicationsRegister, DossiersRead, DossiersWrite, PersonalDataRead, TasksWork},
	Expert:          {DossiersRead, DossiersWrite, PersonalDataRead, TasksWork},
	HeadOfUnit:      {DossiersRead, DossiersWrite, PersonalDataRead, TasksWork, TasksAssign},
	Administrator:   {ServicesManage, UsersManage, UnitsManage, DossiersRead},
	SecurityOfficer: {RolesManage, JournalRead, SessionsRevoke},
}

// machinesForPeople are the machines' roles that a person may hold too.
var machinesForPeople = []Role{Operator, Auditor}

// grantsOf returns what r grants, whether a machines' or a people's role.
func grantsOf(r Role) []Permission {
	if ps, ok := grants[r]; ok {
		return ps
	}
	return peopleGrants[r]
}

// PersonRoles returns the roles a person may hold, sorted: the people's roles, Operator and
// Auditor. Roles and ParseRole are the machines' (API tokens').
func PersonRoles() []Role {
	out := slices.Collect(maps.Keys(peopleGrants))
	out = append(out, machinesForPeople...)
	slices.Sort(out)
	return out
}

// ParsePersonRole returns the role named s if a person may hold it, or an error listing those
// they may.
func ParsePersonRole(s string) (Role, error) {
	all := PersonRoles()
	if slices.Contains(all, Role(s)) {
		return Role(s), nil
	}
	names := make([]string, len(all))
	for i, r := range all {
		names[i] = string(r)
	}
	return "", fmt.Errorf("role %q is not one of %s", s, strings.Join(names, ", "))
}

// AllRoles returns every role, of machines and of people, sorted.
func AllRoles() []Role {
	out := append(Roles(), slices.Collect(maps.Keys(peopleGrants))...)
	slices.Sort(out)
	return out
}

// AllPermissions returns every permission some role grants, sorted.
func AllPermissions() []Permission {
	var out []Permission
	for _, r := range AllRoles() {
		out = append(out, grantsOf(r)...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
