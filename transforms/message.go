package transforms

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/antchfx/xmlquery"

	"github.com/aiskao/aiskao/envelope"
	"github.com/aiskao/aiskao/internal/jsonenc"
	"github.com/aiskao/aiskao/internal/xmllimit"
	"github.com/aiskao/aiskao/internal/xmltree"
)

// Message is a hub message on its way through a route's steps. It keeps what the steps parsed, so
// that consecutive XML steps share one parsed document and consecutive JSON steps one decoded
// value: the payload is parsed once, and serialised again only when someone asks for the bytes.
type Message struct {
	// ID is the message's unique id. Messages made by a split step get "<parent id>.<n>", so that
	// processing the same message again yields the same ids.
	ID string
	// Metadata is the envelope's metadata (names in package envelope) and fields steps put there.
	Metadata map[string]string

	payload []byte
	fresh   bool // payload matches the parsed value that was set last

	doc    *xmlquery.Node
	docErr error
	docSet bool

	val    any
	valErr error
	valSet bool
	encode func() ([]byte, error) // writes val's bytes when the default encoding will not do

	dropped bool
}

// NewMessage returns a message with the given payload; metadata may be nil.
func NewMessage(id string, metadata map[string]string, payload []byte) *Message {
	if metadata == nil {
		metadata = map[string]string{}
	}
	return &Message{ID: id, Metadata: metadata, payload: payload, fresh: true}
}

// Payload returns the payload bytes, serialising the XML document or JSON value a step set last.
// The returned slice must not be modified.
func (m *Message) Payload() ([]byte, error) {
	if m.fresh {
		return m.payload, nil
	}
	switch {
	case m.valSet && m.encode != nil:
		b, err := m.encode()
		if err != nil {
			return nil, fmt.Errorf("encode JSON payload: %w", err)
		}
		m.payload = b
	case m.valSet:
		b, err := jsonenc.Append(make([]byte, 0, 1024), m.val)
		if err != nil {
			return nil, fmt.Errorf("encode JSON payload: %w", err)
		}
		m.payload = b
	case m.docSet:
		m.payload = []byte(m.doc.OutputXML(false))
	}
	m.fresh = true
	return m.payload, nil
}

// PayloadStream returns a function that writes the payload Payload would return to w, encoding
// the JSON value a step set as it writes, so that a large document is not held whole once more;
// nil when the payload is at hand as bytes, or is made otherwise (an XML document, a step's own
// encoding): the caller then takes Payload.
func (m *Message) PayloadStream() func(io.Writer) error {
	if m.fresh || !m.valSet || m.encode != nil {
		return nil
	}
	v := m.val
	return func(w io.Writer) error {
		cw := &captureWriter{w: w}
		if _, err := jsonenc.Write(cw, v); err != nil {
			if cw.err != nil {
				return err // the writer's: the sink says what it was
			}
			return &EncodeError{Err: err}
		}
		return nil
	}
}

// EncodeError is a payload that has no encoding: the value a step set has no JSON form. Sending
// it again does not help.
type EncodeError struct{ Err error }

func (e *EncodeError) Error() string { return "encode JSON payload: " + e.Err.Error() }

// Unwrap returns the encoder's error.
func (e *EncodeError) Unwrap() error { return e.Err }

// captureWriter keeps the error its writer returned, to tell it from the encoder's.
type captureWriter struct {
	w   io.Writer
	err error
}

func (c *captureWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	if err != nil {
		c.err = err
	}
	return n, err
}

// SetPayload replaces the payload and forgets what was parsed from the old one.
func (m *Message) SetPayload(b []byte) {
	m.payload, m.fresh = b, true
	m.doc, m.docErr, m.docSet = nil, nil, false
	m.val, m.valErr, m.valSet, m.encode = nil, nil, false, nil
}

// XML returns the payload parsed as XML, parsing it on the first call only.
func (m *Message) XML() (*xmlquery.Node, error) {
	if !m.docSet {
		p, err := m.Payload()
		if err != nil {
			return nil, err
		}
		// The payload is never changed in place (Payload says so), so the tree may share it.
		m.doc, m.docErr = xmltree.ParseShared(p, xmllimit.Limits{MaxDepth: MaxXMLDepth})
		var le *xmllimit.Error
		switch {
		case errors.As(m.docErr, &le) && le.What == xmllimit.WhatDepth:
			m.docErr = fmt.Errorf("payload XML is nested deeper than %d elements: %w", MaxXMLDepth, m.docErr)
		case errors.Is(m.docErr, xmllimit.ErrLimit):
			m.docErr = fmt.Errorf("payload XML refused: %w", m.docErr)
		case m.docErr != nil:
			m.docErr = fmt.Errorf("payload is not well-formed XML: %w", m.docErr)
		}
		m.docSet = true
	}
	return m.doc, m.docErr
}

// MaxXMLDepth bounds how deeply a payload's elements may nest. Steps walk documents
// recursively; a document nested deeper (as an attacker's can be, within the body size limit)
// would exhaust the stack, which no recovery catches, and bring the hub down. The parser
// refuses it before building anything, with the other limits of xmllimit.Default (size,
// attributes, names, texts, exactly one root element).
const MaxXMLDepth = 256

// SetXML replaces the payload with doc; the bytes are produced when asked for.
func (m *Message) SetXML(doc *xmlquery.Node) {
	m.doc, m.docErr, m.docSet = doc, nil, true
	m.val, m.valErr, m.valSet, m.encode = nil, nil, false, nil
	m.fresh = false
	m.Metadata[envelope.ContentType] = "application/xml"
}

// JSON returns the payload decoded as JSON (objects as map[string]any, arrays as []any, numbers as
// json.Number), decoding it on the first call only.
func (m *Message) JSON() (any, error) {
	if !m.valSet {
		p, err := m.Payload()
		if err != nil {
			return nil, err
		}
		dec := json.NewDecoder(bytes.NewReader(p))
		dec.UseNumber()
		m.valErr = dec.Decode(&m.val)
		if m.valErr != nil {
			m.valErr = fmt.Errorf("payload is not valid JSON: %w", m.valErr)
		}
		m.valSet = true
	}
	return m.val, m.valErr
}

// SetJSON replaces the payload with the JSON value v; the bytes are produced when asked for.
func (m *Message) SetJSON(v any) { m.SetJSONEncoded(v, nil) }

// SetJSONEncoded replaces the payload with the JSON value v, whose bytes encode writes when they
// are asked for: for example in the key order of the document v was made from, which maps do not
// keep. Later steps read v without decoding anything; a step that changes the value sets its
// result with SetJSON rather than changing v in place.
func (m *Message) SetJSONEncoded(v any, encode func() ([]byte, error)) {
	m.val, m.valErr, m.valSet, m.encode = v, nil, true, encode
	m.doc, m.docErr, m.docSet = nil, nil, false
	m.fresh = false
	m.Metadata[envelope.ContentType] = "application/json"
}

// Drop marks the message as going no further: later steps and sinks do not see it.
func (m *Message) Drop() { m.dropped = true }

// Dropped reports whether a step dropped the message.
func (m *Message) Dropped() bool { return m.dropped }

// Child returns the n-th message derived from m (n from 0) with the given payload: its id is
// "<m.ID>.<n>", it copies m's metadata, and its causation id is m's id.
func (m *Message) Child(n int, payload []byte) *Message {
	md := make(map[string]string, len(m.Metadata)+1)
	for k, v := range m.Metadata {
		md[k] = v
	}
	md[envelope.CausationID] = m.ID
	if md[envelope.CorrelationID] == "" {
		md[envelope.CorrelationID] = m.ID
	}
	return NewMessage(m.ID+"."+strconv.Itoa(n), md, payload)
}
