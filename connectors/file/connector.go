package fileconn

import (
	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/spec"
)

func init() {
	connectors.Register(connectors.Factory{
		Type: "file",
		Doc: "Takes files dropped into a folder, one message each, moving them to done/ once stored " +
			"or to failed/ with the reason; writes messages to files in a folder, atomically.",
		Config:    &Config{},
		NewSource: connectors.SourceOf(newSource),
		NewSink:   connectors.SinkOf(newSink),
	})
}

// options returns the options given to a factory, with the defaults of their tags applied and
// validated. Fsync is applied by the loader only: a zero bool cannot tell "not set" from "off",
// so options built in Go set it themselves.
func options(cfg any) (Config, error) { return spec.Options[Config](cfg) }
