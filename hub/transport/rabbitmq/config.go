package rabbitmq

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/aiskao/aiskao/spec"
)

// Config configures the RabbitMQ transport.
type Config struct {
	URL string `yaml:"url" doc:"Address of the RabbitMQ broker, with user, password and virtual host. amqps:// connects with TLS." required:"true" example:"amqp://guest:guest@127.0.0.1:5672/"`

	QueueType string `yaml:"queue_type" doc:"Kind of the routes' queues. quorum queues are replicated and count deliveries, which delivery_limit needs; classic queues are lighter but keep no delivery count. The type of an existing queue cannot change: delete the queue first." enum:"quorum,classic" default:"quorum"`

	Prefetch int `yaml:"prefetch" doc:"Most messages one subscription holds without acknowledgement (the consumer's QoS prefetch). The router handles each message in its own goroutine, so this is also how many messages of a route one process handles at once. Set 1 to handle the messages of a route one at a time." default:"64" min:"1" max:"65535"`

	Pack int `yaml:"pack" doc:"Most messages sent to the broker as one pack. With more than 1, the messages published to a route's topic while the broker has not yet confirmed the previous ones go out together as one broker message, which the broker stores, replicates, confirms and delivers as one: it takes a fraction of the broker's work a message, and nothing waits for a pack to fill (a message published while none is out goes alone, at once). A pack holds at most 1 MiB; messages above 64 KiB always go alone. Each message of a pack is still handled, retried, delayed and dead-lettered on its own; a pack delivered a second time (its process stopped while handling it) is split into its messages first. Every hub version that reads packs reads the queues whatever this says; other Watermill applications reading the same queues do not understand packs: leave it at 1 for them." default:"1" min:"1" max:"4096" example:"32"`

	DeliveryLimit int `yaml:"delivery_limit" doc:"How many times a quorum queue delivers a message before it gives up on it: a message handed back more often (because the processes handling it crashed or gave it back) goes to the queue's dead-letter queue, named after the queue with .dead appended. The hub's own retries and dead letters act long before this; the limit only catches a message that keeps bringing processes down. Ignored by classic queues." default:"10" min:"1" max:"1000000"`

	ExchangePrefix string `yaml:"exchange_prefix" doc:"Start of the names of the exchanges the transport declares, so that several hubs can share one virtual host." default:"aiskao" example:"municipality"`

	QueuePrefix string `yaml:"queue_prefix" doc:"Start of the names of the queues the transport declares: a route's queue is named prefix.route.topic." default:"aiskao" example:"municipality"`

	ConnectionName string `yaml:"connection_name" doc:"Name the connections carry in the broker's management tools, followed by publish or consume. Empty means aiskao@host:pid." example:"hub-1"`

	ReconnectInitial spec.Duration `yaml:"reconnect_initial" doc:"Wait before the first attempt to connect again after the connection was lost. Each failed attempt doubles the wait, up to reconnect_max." default:"250ms"`

	ReconnectMax spec.Duration `yaml:"reconnect_max" doc:"Longest wait between attempts to connect again. It bounds how long the hub stays disconnected after the broker or the network came back." default:"1s"`

	Heartbeat spec.Duration `yaml:"heartbeat" doc:"Interval of the AMQP heartbeats, in whole seconds; the broker may lower it. A connection that receives nothing for half of it asks the broker something; one that still receives nothing at the end of it is reported not ready (stalled), and one that receives nothing for one and a half times it is dropped and opened again: a broker or network that went silent is noticed within that time, not after the system's TCP timeouts." default:"2s" example:"5s"`

	ConnectTimeout spec.Duration `yaml:"connect_timeout" doc:"How long one attempt to connect (TCP, TLS and the AMQP handshake) may take." default:"5s"`

	PublishTimeout spec.Duration `yaml:"publish_timeout" doc:"Longest wait for the broker to confirm the messages of one publish. A source then answers its sender that the message may not be stored (an HTTP source: 503, with the Idempotency-Key to send it again with), rather than keeping the sender waiting." default:"3s"`

	CloseTimeout spec.Duration `yaml:"close_timeout" doc:"How long closing waits for the messages being handled to be acknowledged. Messages still unacknowledged then go back to their queue and are delivered again." default:"10s"`
}

// Validate checks the values that the tags cannot.
func (c *Config) Validate() error {
	var errs []error
	if u, err := url.Parse(c.URL); err != nil || (u.Scheme != "amqp" && u.Scheme != "amqps") || u.Host == "" {
		errs = append(errs, spec.FieldErrorf("url", "must be an amqp:// or amqps:// address with a host, got %q", redact(c.URL)))
	}
	if c.ExchangePrefix == "" {
		errs = append(errs, spec.FieldErrorf("exchange_prefix", "must not be empty"))
	}
	if c.QueuePrefix == "" {
		errs = append(errs, spec.FieldErrorf("queue_prefix", "must not be empty"))
	}
	if d := c.ReconnectInitial.D(); d < time.Millisecond || d > time.Minute {
		errs = append(errs, spec.FieldErrorf("reconnect_initial", "must be between 1ms and 1m, got %s", d))
	}
	if d := c.ReconnectMax.D(); d < c.ReconnectInitial.D() || d > 10*time.Minute {
		errs = append(errs, spec.FieldErrorf("reconnect_max", "must be between reconnect_initial (%s) and 10m, got %s", c.ReconnectInitial.D(), d))
	}
	if d := c.Heartbeat.D(); d < time.Second || d > 10*time.Minute || d%time.Second != 0 {
		errs = append(errs, spec.FieldErrorf("heartbeat", "must be whole seconds between 1s and 10m, got %s", d))
	}
	if d := c.ConnectTimeout.D(); d < 10*time.Millisecond || d > 10*time.Minute {
		errs = append(errs, spec.FieldErrorf("connect_timeout", "must be between 10ms and 10m, got %s", d))
	}
	if d := c.PublishTimeout.D(); d < 10*time.Millisecond || d > 10*time.Minute {
		errs = append(errs, spec.FieldErrorf("publish_timeout", "must be between 10ms and 10m, got %s", d))
	}
	if d := c.CloseTimeout.D(); d < time.Millisecond || d > 10*time.Minute {
		errs = append(errs, spec.FieldErrorf("close_timeout", "must be between 1ms and 10m, got %s", d))
	}
	return errors.Join(errs...)
}

// withDefaults fills the fields left zero with their default tags, so that a Config built in Go
// (not decoded by the configuration loader) behaves like one read from a file.
func withDefaults(c Config) (Config, error) {
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(`url: "amqp://localhost/"`), &n); err != nil {
		return c, fmt.Errorf("rabbitmq: defaults: %w", err)
	}
	var d Config
	if errs := spec.Decode("rabbitmq transport defaults", n.Content[0], "", &d); len(errs) > 0 {
		return c, fmt.Errorf("rabbitmq: defaults: %w", errs)
	}
	if c.QueueType == "" {
		c.QueueType = d.QueueType
	}
	if c.Prefetch == 0 {
		c.Prefetch = d.Prefetch
	}
	if c.Pack == 0 {
		c.Pack = d.Pack
	}
	if c.DeliveryLimit == 0 {
		c.DeliveryLimit = d.DeliveryLimit
	}
	if c.ExchangePrefix == "" {
		c.ExchangePrefix = d.ExchangePrefix
	}
	if c.QueuePrefix == "" {
		c.QueuePrefix = d.QueuePrefix
	}
	if c.ReconnectInitial == 0 {
		c.ReconnectInitial = d.ReconnectInitial
	}
	if c.ReconnectMax == 0 {
		c.ReconnectMax = d.ReconnectMax
	}
	if c.CloseTimeout == 0 {
		c.CloseTimeout = d.CloseTimeout
	}
	if c.Heartbeat == 0 {
		c.Heartbeat = d.Heartbeat
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = d.ConnectTimeout
	}
	if c.PublishTimeout == 0 {
		c.PublishTimeout = d.PublishTimeout
	}
	return c, nil
}

// redact returns the address without its password, for messages and logs.
func redact(addr string) string {
	u, err := url.Parse(addr)
	if err != nil {
		return "(unparsable address)"
	}
	return u.Redacted()
}
