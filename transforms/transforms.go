// Package transforms holds the registry of pipeline steps and the message they work on.
//
// A step is configured under its name in a route's steps ("xpath", "xml_to_json", "json_schema",
// ...). Each family of steps lives in its own package and registers its steps from init; the engine
// finds them by name and knows only the Step interface. transforms/all imports every family.
package transforms

import (
	"context"
	"log/slog"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/internal/registry"
	"github.com/aiskao/aiskao/store"
)

// Step transforms one message in place: its payload, its metadata, or both. A step that decides a
// message goes no further calls m.Drop. Errors of a step are about the message (it is malformed,
// it fails a schema) and are not retried unless marked otherwise.
type Step interface {
	Apply(ctx context.Context, m *Message) error
}

// Splitter is a step that turns one message into several (for example one per repeated element).
// The engine calls Split instead of Apply on steps that implement it.
type Splitter interface {
	Step
	Split(ctx context.Context, m *Message) ([]*Message, error)
}

// Env is what a step factory gets from the engine.
type Env struct {
	// BaseDir is the folder of the configuration file that declares the step; relative file
	// names in options (schemas, templates) are resolved against it.
	BaseDir string
	Logger  *slog.Logger
	// Route is the name of the route the step belongs to.
	Route string
	// Caller returns the connector of that name for steps that call one (enrich); it fails when
	// the connector is not configured or cannot be called.
	Caller func(name string) (connectors.Caller, error)
	// Journal records accountable acts (register calls and the like).
	Journal store.Journal
}

// Factory makes one kind of step.
type Factory struct {
	Name   string // the key that names the step in a route's steps
	Doc    string // one paragraph for the configuration reference
	Config any    // pointer to the zero options struct, described with spec tags
	// New makes the step from decoded, validated options of the same type as Config. It does the
	// costly preparation once (compiling expressions, loading schemas) and fails when it cannot.
	New func(cfg any, env Env) (Step, error)
}

// Default is the registry that step families fill from init.
var Default = registry.New[Factory]("step")

// Register adds f to the Default registry.
func Register(f Factory) { Default.Register(f.Name, f) }
