package mailconn

import (
	"fmt"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/spec"
)

func init() {
	connectors.Register(connectors.Factory{
		Type: "mail",
		Doc: "E-mail: protocol imap reads new mails of a mailbox, one message each, with their attachments, " +
			"marking them \\Seen or moving them once stored; protocol smtp sends messages as mails, over " +
			"STARTTLS or TLS only.",
		Config:    &Config{},
		NewSource: connectors.SourceOf(newSource),
		NewSink:   connectors.SinkOf(newSink),
	})
}

// options returns the options given to a factory with the defaults of their tags applied and
// validated, for the protocol want.
func options(cfg any, env connectors.Env, want string) (Config, error) {
	c, err := spec.Options[Config](cfg)
	if err != nil {
		return c, err
	}
	if c.Protocol != want {
		return c, spec.FieldErrorf("protocol", "%q cannot be a %s; use protocol: %s", c.Protocol, map[string]string{ProtoIMAP: "source", ProtoSMTP: "sink"}[want], want)
	}
	if _, err := c.tlsConfig(env.BaseDir); err != nil {
		return c, fmt.Errorf("mail %s: %w", env.Name, err)
	}
	return c, nil
}
