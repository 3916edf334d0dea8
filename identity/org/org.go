// Package org is the administration's structure as the people's applications see it: a tree of
// units (дирекции, отдели, звена), positions within units, and the people who hold them. Work is
// given to a position, not to a person, so that it reaches whoever holds the position now:
// HoldersOf answers who that is, PositionsOf what a person holds.
package org

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Errors of a Store.
var (
	// ErrExists: a unit or a position with that id exists already.
	ErrExists = errors.New("exists already")
	// ErrNotFound: no unit, position or holding of that id.
	ErrNotFound = errors.New("not found")
)

// Unit is one unit of the administration. Units form a tree: a unit's parent is added before
// it and never changes, so the tree has no cycles.
type Unit struct {
	ID     string // short and stable: "grao", "front-office"
	Name   string // as people read it: "Звено за административно обслужване"
	Parent string // the enclosing unit's id; empty for the root
}

// Position is a post within a unit, held by one person or several (a shared front-office desk).
type Position struct {
	ID    string // unique across units: "front-office.clerk-1"
	Unit  string
	Title string // "главен специалист"
}

// Store keeps units, positions and who holds them. The hub's SQLite and PostgreSQL stores
// implement it.
type Store interface {
	// AddUnit stores u, whose parent must exist; ErrExists when its id is taken, ErrNotFound when
	// its parent is not there.
	AddUnit(ctx context.Context, u Unit) error
	// AddPosition stores p in its unit; ErrExists when its id is taken, ErrNotFound when its unit
	// is not there.
	AddPosition(ctx context.Context, p Position) error
	// Units returns every unit, by id.
	Units(ctx context.Context) ([]Unit, error)
	// Positions returns every position, by id.
	Positions(ctx context.Context) ([]Position, error)
	// Hold makes person a holder of position (ErrNotFound when there is no such position);
	// holding it already is no error.
	Hold(ctx context.Context, person, position string) error
	// Release ends person's holding of position, or returns ErrNotFound.
	Release(ctx context.Context, person, position string) error
	// HoldersOf returns who holds position, sorted: whom a task given to it reaches.
	HoldersOf(ctx context.Context, position string) ([]string, error)
	// PositionsOf returns the positions person holds, sorted.
	PositionsOf(ctx context.Context, person string) ([]string, error)
}

// CheckID reports whether id can name a unit or a position: 1 to 64 lower-case letters, digits,
// '.', '-' or '_'.
func CheckID(id string) error {
	if id == "" || len(id) > 64 {
		return fmt.Errorf("org: id %q: want 1 to 64 characters", id)
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.ContainsRune(".-_", c)) {
			return fmt.Errorf("org: id %q: only lower-case letters, digits and . - _ are allowed", id)
		}
	}
	return nil
}

// Path returns the ids from the root down to unit id, so that a unit's head can be found above
// it; ErrNotFound when id is not among units.
func Path(units []Unit, id string) ([]string, error) {
	byID := make(map[string]Unit, len(units))
	for _, u := range units {
		byID[u.ID] = u
	}
	var path []string
	for cur := id; cur != ""; {
		u, ok := byID[cur]
		if !ok || len(path) > len(units) {
			return nil, fmt.Errorf("org: unit %q: %w", cur, ErrNotFound)
		}
		path = append([]string{cur}, path...)
		cur = u.Parent
	}
	return path, nil
}
