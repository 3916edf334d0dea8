package charset

import (
	"context"
	"fmt"

	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/transforms"
)

func init() {
	transforms.Register(transforms.Factory{
		Name: "charset",
		Doc: "Converts the payload between UTF-8 and a legacy character set: windows-1251, cp866, koi8-r, " +
			"or utf-8 (with or without a byte order mark). With from the payload is decoded into UTF-8 " +
			"(a leading byte order mark removed); with to UTF-8 text is encoded into the set. Nothing is " +
			"replaced silently: a byte the set does not define (0x98 in windows-1251), invalid UTF-8, or a " +
			"letter the set cannot hold fails the message with its byte offset and line.",
		Config: &Options{},
		New:    newStep,
	})
}

// Options configures charset; exactly one of from and to is set.
type Options struct {
	From string `yaml:"from" doc:"Character set the payload is in; it is decoded into UTF-8. One of utf-8, windows-1251 (cp1251), cp866 (ibm866), koi8-r." example:"windows-1251"`
	To   string `yaml:"to" doc:"Character set the UTF-8 payload is encoded into; same names as from." example:"cp866"`
	BOM  bool   `yaml:"bom" doc:"With to: utf-8, start the payload with a byte order mark (once: one already there is kept, not doubled)." default:"false"`
}

// Validate checks that exactly one of from and to names a known character set.
func (o *Options) Validate() error {
	switch {
	case o.From == "" && o.To == "":
		return spec.FieldErrorf("from", "set from (decode into UTF-8) or to (encode from UTF-8)")
	case o.From != "" && o.To != "":
		return spec.FieldErrorf("to", "set from or to, not both")
	case o.From != "":
		if _, err := Find(o.From); err != nil {
			return spec.FieldErrorf("from", "%v", err)
		}
		if o.BOM {
			return spec.FieldErrorf("bom", "only with to: utf-8; decoding removes a byte order mark anyway")
		}
	default:
		c, err := Find(o.To)
		if err != nil {
			return spec.FieldErrorf("to", "%v", err)
		}
		if o.BOM && !c.IsUTF8() {
			return spec.FieldErrorf("bom", "only with to: utf-8")
		}
	}
	return nil
}

type step struct {
	c      *Codec
	decode bool
	bom    bool
}

func newStep(cfg any, _ transforms.Env) (transforms.Step, error) {
	o := cfg.(*Options)
	if err := spec.Validate(o); err != nil {
		return nil, err
	}
	if o.From != "" {
		c, _ := Lookup(o.From)
		return &step{c: c, decode: true}, nil
	}
	c, _ := Lookup(o.To)
	return &step{c: c, bom: o.BOM}, nil
}

// Apply converts the payload.
func (s *step) Apply(_ context.Context, m *transforms.Message) error {
	p, err := m.Payload()
	if err != nil {
		return err
	}
	var out []byte
	if s.decode {
		body := StripBOM(p)
		out, err = s.c.Decode(make([]byte, 0, len(p)+len(p)/2), body)
		if err != nil {
			if be, ok := err.(*ByteError); ok {
				be.Offset += len(p) - len(body) // count the byte order mark, so the offset is the payload's
			}
			return fmt.Errorf("charset: decode: %w", err)
		}
	} else {
		if s.bom {
			out = append(out, bom...)
			p = StripBOM(p)
		}
		if out, err = s.c.Encode(out, p); err != nil {
			return fmt.Errorf("charset: encode: %w", err)
		}
	}
	m.SetPayload(out)
	return nil
}
