package records

import (
	"context"
	"errors"
	"fmt"

	"github.com/aiskao/aiskao/envelope"
	"github.com/aiskao/aiskao/transforms"
	"github.com/aiskao/aiskao/transforms/charset"
)

// format reads and writes the records of one kind of file: CSV or fixed-width.
type format interface {
	// parse reads every record of data and returns them with the fields they were read by.
	parse(data []byte) ([]field, []parsed, error)
	// Write writes records as a file.
	Write(recs []map[string]any) ([]byte, error)
}

// recordStep is a csv or fixed_width step: in mode write it turns the message's records into a
// file (Apply); otherwise it parses a file into records, as one message or one per record (Split).
type recordStep struct {
	name, mediaType   string // the step's name for errors; the written file's media type
	mode, output, bad string // the options mode, output and bad_records
	codec             *charset.Codec
	format            format
}

// Apply writes a file in mode write; parsing makes several messages, which Split returns.
func (s *recordStep) Apply(_ context.Context, m *transforms.Message) error {
	if s.mode != "write" {
		return errors.New(s.name + ": parsing makes messages of its own and must be run with Split")
	}
	recs, err := inputRecords(m)
	if err != nil {
		return fmt.Errorf("%s: write: %w", s.name, err)
	}
	out, err := s.format.Write(recs)
	if err != nil {
		return err
	}
	m.SetPayload(out)
	m.Metadata[envelope.ContentType] = s.mediaType + "; charset=" + s.codec.Name()
	return nil
}

// Split parses the file into messages; in mode write it writes the one message.
func (s *recordStep) Split(ctx context.Context, m *transforms.Message) ([]*transforms.Message, error) {
	if s.mode == "write" {
		if err := s.Apply(ctx, m); err != nil {
			return nil, err
		}
		return []*transforms.Message{m}, nil
	}
	p, err := m.Payload()
	if err != nil {
		return nil, err
	}
	fs, recs, err := s.format.parse(p)
	if err != nil {
		return nil, err
	}
	return emit(m, s.name, fs, recs, s.output, s.bad)
}
