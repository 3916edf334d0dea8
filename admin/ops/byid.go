package ops

import (
	"context"
	"errors"

	"github.com/aiskao/aiskao/store"
)

// messageIDScan is how many of the newest dead letters are searched for a message id.
const messageIDScan = 10000

// deadLetterID gives the id of the dead letter that id names: id itself when a dead letter has
// it, else the newest of the latest messageIDScan dead letters holding the message of that id
// (the id that a source answered the message's sender with), else id unchanged, so that the
// caller answers 404 as before.
func (a *api) deadLetterID(ctx context.Context, id string) string {
	st := a.b.Store()
	if _, err := st.GetDeadLetter(ctx, id); !errors.Is(err, store.ErrNotFound) {
		return id
	}
	dls, err := st.ListDeadLetters(ctx, store.Filter{Limit: messageIDScan})
	if err != nil {
		return id
	}
	for _, d := range dls { // newest first
		if d.MessageID == id {
			return d.ID
		}
	}
	return id
}
