package ops

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/aiskao/aiskao/internal/mask"
	"github.com/aiskao/aiskao/store"
)

// deadLetterJSON is a dead letter as the API shows it. openapi.yaml describes the same shape
// (schemas DeadLetter and DeadLetterWithPayload).
type deadLetterJSON struct {
	ID        string            `json:"id"`
	MessageID string            `json:"message_id"`
	Route     string            `json:"route"`
	Step      string            `json:"step"`
	Error     string            `json:"error"`
	Attempts  int               `json:"attempts"`
	Time      time.Time         `json:"time"`
	Metadata  map[string]string `json:"metadata"`
	// Exactly one of the two is set when the payload is shown; pointers so that an empty
	// payload still appears as "payload": "".
	Payload       *string `json:"payload,omitempty"`
	PayloadBase64 *string `json:"payload_base64,omitempty"`
}

// deadLetterList is the body of GET /api/v1/dead-letters.
type deadLetterList struct {
	DeadLetters []deadLetterJSON `json:"dead_letters"`
}

// journalList is the body of GET /api/v1/journal; entries have the JSON shape of
// store.JournalEntry, which openapi.yaml describes as JournalEntry.
type journalList struct {
	Entries []store.JournalEntry `json:"entries"`
}

// replayResult is the body of a successful POST /api/v1/dead-letters/{id}/replay.
type replayResult struct {
	ID        string `json:"id"`
	MessageID string `json:"message_id"`
	Status    string `json:"status"`
}

// errorJSON is the body of every error answer of the dead-letter endpoints.
type errorJSON struct {
	Error string `json:"error"`
}

// toJSON converts d for the API; withPayload chooses between the listing and the detail shape.
func toJSON(d store.DeadLetter, withPayload bool) deadLetterJSON {
	j := deadLetterJSON{
		ID:        d.ID,
		MessageID: d.MessageID,
		Route:     d.Route,
		Step:      d.Step,
		Error:     d.Error,
		Attempts:  d.Attempts,
		Time:      d.Time.UTC(),
		Metadata:  d.Metadata,
	}
	if j.Metadata == nil {
		j.Metadata = map[string]string{} // always an object, never null
	}
	if withPayload {
		if utf8.Valid(d.Payload) {
			s := string(d.Payload)
			j.Payload = &s
		} else {
			s := base64.StdEncoding.EncodeToString(d.Payload)
			j.PayloadBase64 = &s
		}
	}
	return j
}

// maskDeadLetter returns d with every ЕГН and ЛНЧ masked in its payload, error and metadata.
func maskDeadLetter(d store.DeadLetter) store.DeadLetter {
	d.Error = mask.PersonalNumbers(d.Error)
	d.Metadata = mask.Map(d.Metadata)
	if d.Payload != nil {
		d.Payload = mask.Bytes(bytes.Clone(d.Payload))
	}
	return d
}

// maskJournalEntry returns e with every ЕГН and ЛНЧ masked in its text and details.
func maskJournalEntry(e store.JournalEntry) store.JournalEntry {
	for _, f := range []*string{&e.Route, &e.MessageID, &e.Dossier, &e.Actor, &e.Subject, &e.LegalBasis, &e.Result} {
		*f = mask.PersonalNumbers(*f)
	}
	e.Detail = mask.Map(e.Detail)
	return e
}

// fromJSON converts an API dead letter back into the store's type.
func fromJSON(j deadLetterJSON) (store.DeadLetter, error) {
	d := store.DeadLetter{
		ID:        j.ID,
		MessageID: j.MessageID,
		Route:     j.Route,
		Step:      j.Step,
		Error:     j.Error,
		Attempts:  j.Attempts,
		Time:      j.Time,
	}
	if len(j.Metadata) > 0 {
		d.Metadata = j.Metadata
	}
	switch {
	case j.Payload != nil:
		d.Payload = []byte(*j.Payload)
	case j.PayloadBase64 != nil:
		p, err := base64.StdEncoding.DecodeString(*j.PayloadBase64)
		if err != nil {
			return store.DeadLetter{}, fmt.Errorf("dead letter %q: payload_base64: %w", j.ID, err)
		}
		d.Payload = p
	}
	return d, nil
}
