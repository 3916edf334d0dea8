// Package connectors holds the registry of connector types and the interfaces the engine uses.
//
// A connector is configured by name under the configuration's connectors, with its type
// ("http", "file", ...) and options. One package per type registers itself from init and knows
// nothing of the others; connectors/all imports every type. A connector can be a source (routes
// read from it), a sink (routes deliver to it), or both.
package connectors

import (
	"context"
	"io"
	"log/slog"
	"net/http"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/identity/apitoken"
	"github.com/aiskao/aiskao/internal/registry"
	"github.com/aiskao/aiskao/store"
)

// Emit hands messages received by a source to the hub. It returns nil only once every message is
// durably stored for every route that reads from the source, or delivered by an inline route:
// then, and only then, the source may acknowledge them to their sender. The source sets the id
// and payload; the hub fills the envelope's source, time and correlation id when absent.
type Emit func(ctx context.Context, msgs ...*message.Message) error

type newIDsKey struct{}

// WithNewIDs marks ctx, given to Emit, as carrying messages whose ids the source made for this
// call alone, from nothing a sender gave it (no idempotency key): no route can have taken them
// before, so an inline route neither looks them up nor remembers them.
func WithNewIDs(ctx context.Context) context.Context {
	return context.WithValue(ctx, newIDsKey{}, true)
}

// NewIDs reports whether ctx was marked by WithNewIDs.
func NewIDs(ctx context.Context) bool {
	v, _ := ctx.Value(newIDsKey{}).(bool)
	return v
}

// Source receives messages from outside the hub.
type Source interface {
	// Run receives messages and hands them to emit until ctx is done, then returns nil once it
	// has stopped taking new ones. It returns an error only when it cannot go on.
	Run(ctx context.Context, emit Emit) error
}

// Sink delivers messages out of the hub.
type Sink interface {
	// Send delivers one message. It is safe for concurrent use. An error marked with
	// fault.Permanent is not retried; any other error is.
	Send(ctx context.Context, msg *message.Message) error
	// Close releases the sink's resources.
	Close() error
}

// StreamSink is a Sink that can take a payload as it is written rather than whole. The hub
// gives it the output of a route whose steps made a JSON value, encoded as the sink writes it,
// so that a large document is never held once more as bytes.
type StreamSink interface {
	Sink
	// SendStream delivers msg, whose Payload is empty, with the payload write writes to the
	// writer it is given. write may be called more than once (a sink that starts again) and
	// writes the same bytes each time; an error from it fails the delivery.
	SendStream(ctx context.Context, msg *message.Message, write func(io.Writer) error) error
}

// Caller is a connector that answers requests in the middle of a route — a register, a web
// service. The enrich step calls it and merges the answer into the message. It is safe for
// concurrent use.
type Caller interface {
	// Call sends req and returns the answer. An error marked with fault.Permanent is not retried;
	// any other error is.
	Call(ctx context.Context, req CallRequest) (CallResult, error)
	// Close releases the caller's resources.
	Close() error
}

// CallRequest is what a step asks of a Caller.
type CallRequest struct {
	Operation  string            // what to ask: a register's operation, a service's method
	Parameters map[string]string // the operation's arguments by name
	// Context says on whose behalf and why the call is made (employee, legal basis, dossier,
	// service); each connector documents the names it reads.
	Context map[string]string
	Message *message.Message // the message being processed: its id and envelope, for the journal
	Route   string           // the route making the call, for the journal
}

// CallResult is a Caller's answer.
type CallResult struct {
	Data any    // the answer as JSON-like values (maps, slices, strings, numbers), merged into the message
	Raw  []byte // the answer's document as received
}

// Env is what a connector factory gets from the engine.
type Env struct {
	// Name is the connector's name in the configuration.
	Name string
	// BaseDir is the folder of the configuration file; relative paths resolve against it.
	BaseDir string
	// DataDir is the hub's data folder.
	DataDir string
	Logger  *slog.Logger
	// Mux returns the request multiplexer of the HTTP server listening on addr, shared by every
	// connector that listens there. The engine starts the servers once all connectors are built.
	Mux func(addr string) (*http.ServeMux, error)
	// ListenerTLS sets whether the HTTP server on addr serves HTTPS, with the PEM certificate chain
	// and key in certFile and keyFile, or plain HTTP when both are empty. An HTTPS server asks
	// clients for a certificate without checking it, since the connectors sharing it may trust
	// different CAs: each checks its own. Every connector on addr must ask for the same, or it
	// gets an error.
	ListenerTLS func(addr, certFile, keyFile string) error
	// State is the hub's route state: values per route and key that outlive a restart (a
	// poller's cursor, a status table). Nil when the connector is only checked.
	State store.State
	// Journal records accountable acts. Nil when the connector is only checked.
	Journal store.Journal
	// Tokens looks up the API tokens callers present; nil when the store keeps none.
	Tokens apitoken.Lookup
	// Check is set when the connector is built only to check the configuration (aiskao
	// validate): it loads and checks what it would use, but creates nothing (no folders) and
	// uses no store.
	Check bool
}

// Log returns the connector's logger, which names the connector in every record; one that
// discards when the engine gave none (tests, checks).
func (e Env) Log() *slog.Logger {
	if e.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return e.Logger.With("connector", e.Name)
}

// Factory makes one type of connector.
type Factory struct {
	Type   string // the connector type named in the configuration
	Doc    string // one paragraph for the configuration reference
	Config any    // pointer to the zero options struct, described with spec tags
	// NewSource makes a source from decoded, validated options of the same type as Config; nil
	// when the type cannot be a source.
	NewSource func(cfg any, env Env) (Source, error)
	// NewSink makes a sink likewise; nil when the type cannot be a sink.
	NewSink func(cfg any, env Env) (Sink, error)
	// NewCaller makes a caller likewise; nil when the type cannot be called from a step.
	NewCaller func(cfg any, env Env) (Caller, error)
}

// SourceOf adapts a constructor that returns its own source type to Factory.NewSource: on an
// error it returns a nil Source, not a nil pointer of that type inside a non-nil interface.
func SourceOf[S Source](f func(cfg any, env Env) (S, error)) func(cfg any, env Env) (Source, error) {
	return adapt[Source](f)
}

// SinkOf adapts a constructor that returns its own sink type to Factory.NewSink, as SourceOf does.
func SinkOf[S Sink](f func(cfg any, env Env) (S, error)) func(cfg any, env Env) (Sink, error) {
	return adapt[Sink](f)
}

// adapt returns f with its result as the interface I, which S implements (SourceOf and SinkOf
// make sure of it).
func adapt[I, S any](f func(cfg any, env Env) (S, error)) func(cfg any, env Env) (I, error) {
	return func(cfg any, env Env) (I, error) {
		s, err := f(cfg, env)
		if err != nil {
			var none I
			return none, err
		}
		return any(s).(I), nil
	}
}

// Default is the registry that connector packages fill from init.
var Default = registry.New[Factory]("connector type")

// Register adds f to the Default registry.
func Register(f Factory) { Default.Register(f.Type, f) }
