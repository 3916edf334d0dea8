package routes_test

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/internal/registry"
	"github.com/aiskao/aiskao/routes"
	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/store"
	"github.com/aiskao/aiskao/transforms"
	"github.com/aiskao/aiskao/transport"
)

// The fake factories below stand for real ones so that the loader's tests depend on no connector,
// step, transport or store package.

type httpConfig struct {
	Listen  string        `yaml:"listen" doc:"Address to listen on." required:"true" example:"127.0.0.1:8080"`
	Path    string        `yaml:"path" doc:"Path of the POST endpoint." default:"/"`
	MaxBody spec.ByteSize `yaml:"max_body" doc:"Largest accepted body." default:"10MiB"`
	Timeout spec.Duration `yaml:"timeout" doc:"How long a request may take." default:"10s"`
	Mode    string        `yaml:"mode" doc:"Where request headers go." enum:"metadata,json" default:"metadata"`
	Headers []string      `yaml:"headers" doc:"Request headers copied to metadata." example:"[X-Request-Id]"`
}

type fileConfig struct {
	Dir     string        `yaml:"dir" doc:"Folder to read or write." required:"true"`
	Pattern string        `yaml:"pattern" doc:"Names of the files to read." default:"*.xml"`
	Poll    spec.Duration `yaml:"poll" doc:"How often to look for new files." default:"1s"`
	Retries *int          `yaml:"retries" doc:"Attempts to read a locked file; unset means forever." min:"1"`
}

type outboxConfig struct {
	Table string `yaml:"table" doc:"Table the messages are written to." default:"outbox"`
}

type timerConfig struct {
	Every spec.Duration `yaml:"every" doc:"Interval between two messages." required:"true"`
	Body  any           `yaml:"body" doc:"Payload of each message, any YAML." example:"{ping: true}"`
}

type xpathConfig struct {
	Fields     map[string]string `yaml:"fields" doc:"Metadata names mapped to XPath expressions." required:"true"`
	Namespaces map[string]string `yaml:"namespaces" doc:"Prefixes used in the expressions."`
}

// Validate asks for absolute expressions, so that the corpus has a step whose Validate fails.
func (c *xpathConfig) Validate() error {
	var errs []error
	for k, v := range c.Fields {
		if !strings.HasPrefix(v, "/") {
			errs = append(errs, spec.FieldErrorf("fields."+k, "expression %q must start with /", v))
		}
	}
	return errors.Join(errs...)
}

type xmlToJSONConfig struct{}

type setConfig struct {
	Values   map[string]string `yaml:"values" doc:"Metadata to set." min:"1"`
	Priority int               `yaml:"priority" doc:"Priority of the message." min:"0" max:"9" default:"4"`
	Ratio    float64           `yaml:"ratio" doc:"Sampling ratio." default:"1" min:"0" max:"1"`
	Keep     bool              `yaml:"keep" doc:"Keep existing values."`
	Tags     []string          `yaml:"tags" doc:"Tags to add." max:"3"`
	Limits   *limits           `yaml:"limits" doc:"Optional limits."`
}

type limits struct {
	Size spec.ByteSize `yaml:"size" doc:"Largest payload." max:"1MiB"`
}

type embeddedConfig struct {
	Dir  string `yaml:"dir" doc:"Folder of the queue files, under the data folder." default:"queue"`
	Sync *bool  `yaml:"sync" doc:"Sync every write to disk." default:"true"`
}

type rabbitConfig struct {
	URL string `yaml:"url" doc:"AMQP address." required:"true" example:"amqp://guest:guest@localhost:5672/"`
}

type sqliteConfig struct {
	Path string `yaml:"path" doc:"Database file, under the data folder." default:"hub.db"`
}

func newSource(any, connectors.Env) (connectors.Source, error) {
	return nil, fmt.Errorf("fake connector")
}

func newSink(any, connectors.Env) (connectors.Sink, error) {
	return nil, fmt.Errorf("fake connector")
}

func newStep(any, transforms.Env) (transforms.Step, error) { return nil, fmt.Errorf("fake step") }

// testCatalog returns a catalog of fake factories.
func testCatalog() routes.Catalog {
	cat := routes.Catalog{
		Connectors: registry.New[connectors.Factory]("connector type"),
		Steps:      registry.New[transforms.Factory]("step"),
		Transports: registry.New[transport.Factory]("transport type"),
		Stores:     registry.New[store.Factory]("store type"),
	}
	for _, f := range []connectors.Factory{
		{Type: "http", Doc: "Receives messages over HTTP POST and sends them likewise.", Config: &httpConfig{}, NewSource: newSource, NewSink: newSink},
		{Type: "file", Doc: "Reads and writes files in a folder.", Config: &fileConfig{}, NewSource: newSource, NewSink: newSink},
		{Type: "outbox", Doc: "Writes messages to a table.", Config: &outboxConfig{}, NewSink: newSink},
		{Type: "timer", Doc: "Makes a message at an interval.", Config: &timerConfig{}, NewSource: newSource},
	} {
		cat.Connectors.Register(f.Type, f)
	}
	for _, f := range []transforms.Factory{
		{Name: "xpath", Doc: "Reads values from the XML payload into metadata.", Config: &xpathConfig{}, New: newStep},
		{Name: "xml_to_json", Doc: "Turns an XML payload into JSON.", Config: &xmlToJSONConfig{}, New: newStep},
		{Name: "set", Doc: "Sets metadata.", Config: &setConfig{}, New: newStep},
	} {
		cat.Steps.Register(f.Name, f)
	}
	cat.Transports.Register("embedded", transport.Factory{Type: "embedded", Doc: "Durable queues in files.", Config: &embeddedConfig{}})
	cat.Transports.Register("rabbitmq", transport.Factory{Type: "rabbitmq", Doc: "RabbitMQ queues.", Config: &rabbitConfig{}})
	cat.Stores.Register("sqlite", store.Factory{Type: "sqlite", Doc: "An SQLite file.", Config: &sqliteConfig{}})
	return cat
}
