// Package routes is the configuration model of the hub: one YAML file or a folder of them
// declaring transport, store, ops, connectors and routes. Loading is strict (an unknown key is an
// error), expands ${NAME} and ${NAME:-default} from the environment, and reports every problem at
// once as "file:line:col: path.to.field: what is wrong". The JSON Schema of the configuration and
// its reference documentation come from the same field descriptions that validate it.
package routes

import (
	"errors"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/internal/registry"
	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/store"
	"github.com/aiskao/aiskao/transforms"
	"github.com/aiskao/aiskao/transport"
)

// Config is a loaded, validated configuration. Option structs are decoded into the Config types
// their factories declare, with defaults applied.
type Config struct {
	Files      []string             // the files it was read from, in order
	Transport  Plugin               // transport.type and its options
	Store      Plugin               // store.type and its options
	Ops        Ops                  // the operations API
	Web        Web                  // the people's web applications
	Connectors map[string]Connector // by name
	Routes     []Route              // in declaration order
}

// Plugin is a transport or a store: its type and its decoded options (a pointer to the factory's
// Config type).
type Plugin struct {
	Type   string
	Config any
}

// Ops configures the operations API.
type Ops struct {
	Listen string `yaml:"listen" doc:"Address of the operations API (metrics, health, dead letters). Empty turns it off. Without tls it must be a loopback address, since API tokens would cross the network in clear." example:"127.0.0.1:9090"`
	TLS    OpsTLS `yaml:"tls" doc:"HTTPS on the operations API, and client certificates as a second way to authenticate beside API tokens."`
	// BaseDir is the folder of the file that sets ops; relative file names resolve against it.
	BaseDir string `yaml:"-"`
	Pos     Pos    `yaml:"-"` // where listen is written, for errors found when the hub is built
}

// OpsTLS is the operations API's HTTPS.
type OpsTLS struct {
	Cert     string            `yaml:"cert" doc:"File of the server's PEM certificate chain; relative to the configuration's folder." example:"certs/ops.pem"`
	Key      string            `yaml:"key" doc:"File of its PEM private key." example:"certs/ops.key"`
	ClientCA string            `yaml:"client_ca" doc:"File of the PEM CA certificates that client certificates must chain to; empty accepts API tokens only." example:"certs/ops-clients-ca.pem"`
	Clients  map[string]string `yaml:"clients" doc:"Client certificate subjects (as Go writes them, CN=...,O=...) and the role each is given: operator or auditor. A trusted certificate whose subject is not here is refused." example:"{CN=monitoring: auditor}"`
}

// Validate checks that cert and key come together and that client certificates have a CA.
func (t OpsTLS) Validate() error {
	var errs []error
	if (t.Cert == "") != (t.Key == "") {
		errs = append(errs, spec.FieldErrorf("cert", "set both cert and key, or neither"))
	}
	if t.ClientCA != "" && t.Cert == "" {
		errs = append(errs, spec.FieldErrorf("client_ca", "client certificates need HTTPS: set cert and key too"))
	}
	if len(t.Clients) > 0 && t.ClientCA == "" {
		errs = append(errs, spec.FieldErrorf("clients", "set client_ca, the CA the certificates must chain to"))
	}
	for subject, role := range t.Clients {
		if role != "operator" && role != "auditor" {
			errs = append(errs, spec.FieldErrorf("clients", "%s: role %q is not operator or auditor", subject, role))
		}
	}
	return errors.Join(errs...)
}

// Connector is one configured connector.
type Connector struct {
	Name    string
	Type    string
	Config  any    // pointer to the factory's Config type
	BaseDir string // folder of the file that declares it
	Pos     Pos
}

// Route is one configured route: a source, steps, and one or more sinks.
type Route struct {
	Name    string
	From    string   // connector name
	Steps   []Step   // in order
	To      []string // connector names; every surviving message goes to each
	OnError OnError
	// Timeout bounds each step and each delivery to a sink.
	Timeout spec.Duration
	// Prefetch is the most messages of the route one process holds at once; 0 means the
	// transport's prefetch.
	Prefetch int
	// MaxInFlightBytes is the most payload bytes of the route one process handles at once; 0
	// means the default derived from memory.
	MaxInFlightBytes int64
	// Inline takes the route's messages through its steps and sinks within the source's call;
	// those that fail there are stored in the transport and go the usual way.
	Inline  bool
	BaseDir string // folder of the file that declares it
	Path    string // its place in its file, "routes[2]", for errors found when it is built
	Pos     Pos
}

// Step is one configured step. Name is the step's key ("xpath", "switch", ...); Path is its place
// in the configuration ("steps[2]" or "steps[1].switch.cases[0].steps[0]"), used in dead letters
// and in the output of try.
type Step struct {
	Name   string
	Path   string
	Config any // pointer to the factory's Config type; *Switch for "switch"
	Pos    Pos
}

// Switch is the options of the structural "switch" step: the first case whose condition holds
// takes the message through its own steps to its own sinks; without a match the default branch
// does, and without a default the message goes on after the switch.
type Switch struct {
	Cases   []Case
	Default *Branch
}

// Case is one branch of a switch, with its condition.
type Case struct {
	When Condition
	Branch
}

// Branch is the steps and sinks of a switch case. Empty To means: go on with the steps after the
// switch and the route's sinks.
type Branch struct {
	Steps []Step
	To    []string
}

// Condition is an XPath boolean expression over the XML payload or an expression over the JSON
// payload and metadata; exactly one is set.
type Condition struct {
	XPath      string            `yaml:"xpath" doc:"XPath expression over the XML payload; true when it selects a node or evaluates to true." example:"/m:Message/m:Header/m:MessageType = 'MSG_DocumentRegistrationRequest'"`
	Expr       string            `yaml:"expr" doc:"Expression over the JSON payload (body) and metadata (meta), in the expr language." example:"meta.type == 'esoed.DocumentRegistrationRequest'"`
	Namespaces map[string]string `yaml:"namespaces" doc:"Prefixes used in xpath, mapped to namespace URIs." example:"{m: 'http://schemas.egov.bg/messaging/v1'}"`
}

// OnError says what happens when a step or a sink fails.
type OnError struct {
	Retry      Retry `yaml:"retry" doc:"Retries of a failed message before it becomes a dead letter. Errors marked permanent (a malformed message, an HTTP 4xx answer) are not retried. A wait of half a second or more is not spent holding the message: it goes back to the transport, which delivers it again after the wait (also after a restart), and the route takes other messages meanwhile; shorter waits are waited in place."`
	DeadLetter *bool `yaml:"dead_letter" doc:"Keep a message that failed its last retry as a dead letter, to inspect and replay. When false it is logged and dropped." default:"true"`
	// MaxDeliveries guards against poison: a message that takes a process down never fails
	// its retries, it just comes back.
	MaxDeliveries int `yaml:"max_deliveries" doc:"Deliveries of one message to the route, counted by transports that count them (embedded, RabbitMQ quorum queues) since the message arrived or was last handed back for a retry after a wait, after which it becomes a dead letter without being processed again: a message that keeps coming back has likely stopped the processes that took it. Keep it below the transport's delivery_limit." default:"5" min:"1" max:"1000"`
}

// Retry is an exponential backoff with a cap.
type Retry struct {
	Max        int           `yaml:"max" doc:"Retries after the first attempt." default:"3" min:"0" max:"100"`
	Backoff    spec.Duration `yaml:"backoff" doc:"Wait before the first retry; each next wait is multiplied by multiplier." default:"100ms"`
	MaxBackoff spec.Duration `yaml:"max_backoff" doc:"Longest wait between two retries." default:"10s"`
	Multiplier float64       `yaml:"multiplier" doc:"Growth of the wait from one retry to the next." default:"2" min:"1"`
	Jitter     *float64      `yaml:"jitter" doc:"Share by which each wait is varied at random, up or down, so that messages failing together do not retry in lockstep: 0.1 is ±10 %. 0 waits exactly as backoff and multiplier say, as the ЕСОЕД retry schedule asks." default:"0.1" min:"0" max:"1"`
}

// JitterShare returns Jitter, or its default 0.1 when it is not set.
func (r Retry) JitterShare() float64 {
	if r.Jitter == nil {
		return 0.1
	}
	return *r.Jitter
}

// Pos is a place in a configuration file.
type Pos struct {
	File      string
	Line, Col int
}

// Catalog is where the loader finds the types and steps a configuration may name.
type Catalog struct {
	Connectors *registry.Registry[connectors.Factory]
	Steps      *registry.Registry[transforms.Factory]
	Transports *registry.Registry[transport.Factory]
	Stores     *registry.Registry[store.Factory]
}

// DefaultCatalog is the catalog of the packages' Default registries.
func DefaultCatalog() Catalog {
	return Catalog{
		Connectors: connectors.Default,
		Steps:      transforms.Default,
		Transports: transport.Default,
		Stores:     store.Default,
	}
}
