package embedded

import (
	"errors"
	"time"

	"github.com/aiskao/aiskao/spec"
)

// Config configures the embedded transport.
type Config struct {
	File string `yaml:"file" doc:"SQLite file that holds the messages. A relative path is taken from the data folder. Empty means aiskao.db in the data folder, the file the embedded store uses too." example:"transport.db"`

	BatchMax int `yaml:"batch_max" doc:"Most messages written in one commit. Concurrent publishes are gathered into one transaction up to this many messages, so that they share the cost of one sync to disk; a single publish of more messages is still written whole." default:"256" min:"1" max:"100000"`

	Prefetch int `yaml:"prefetch" doc:"Most messages one subscription holds without acknowledgement. The router handles each message in its own goroutine, so this is also how many messages of a route are handled at once. Set 1 to handle the messages of a route strictly in order." default:"64" min:"1" max:"10000"`

	ReadBytes spec.ByteSize `yaml:"read_bytes" doc:"Most bytes of payload a subscription reads from the file at once, besides reading at most 256 messages; a larger message is read alone. Messages published in this process are handed to its subscriptions without being read back, up to handoff_bytes." default:"8MiB" min:"1" example:"32MiB"`

	HandoffBytes spec.ByteSize `yaml:"handoff_bytes" doc:"Most bytes of payload, published in this process and not yet taken by a subscription of it, that the subscription keeps in memory so as to take them without reading them back from the file; past this, it reads them from the file when it comes to them. A larger message is kept when nothing else is." default:"16MiB" min:"1" example:"64MiB"`

	PollInterval spec.Duration `yaml:"poll_interval" doc:"How often an idle subscription looks for new messages in the file. Messages published in the same process wake subscribers at once; polling only catches what another process wrote." default:"100ms" example:"1s"`

	AckInterval spec.Duration `yaml:"ack_interval" doc:"How long acknowledgements may wait to be written together when no publish is being written (they ride along with publishes otherwise). An acknowledgement lost in a crash only means the message is delivered again." default:"10ms"`

	CloseTimeout spec.Duration `yaml:"close_timeout" doc:"How long closing waits for the messages being handled to be acknowledged. Messages still unacknowledged then are delivered again after a restart." default:"10s"`
}

// Validate checks the values that the tags cannot.
func (c *Config) Validate() error {
	var errs []error
	if d := c.PollInterval.D(); d < time.Millisecond || d > time.Minute {
		errs = append(errs, spec.FieldErrorf("poll_interval", "must be between 1ms and 1m, got %s", d))
	}
	if d := c.AckInterval.D(); d < time.Millisecond || d > time.Second {
		errs = append(errs, spec.FieldErrorf("ack_interval", "must be between 1ms and 1s, got %s", d))
	}
	if d := c.CloseTimeout.D(); d < time.Millisecond || d > 10*time.Minute {
		errs = append(errs, spec.FieldErrorf("close_timeout", "must be between 1ms and 10m, got %s", d))
	}
	return errors.Join(errs...)
}
