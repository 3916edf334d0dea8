// Package filedrop is what the sources that take files dropped into a folder share, whether the
// folder is local (the file connector) or on a server (sftp): which names are taken, when a file
// is finished being written, the message a file becomes, and the free name a taken file is moved
// to. Reading and moving the files is each connector's own.
package filedrop

import (
	"errors"
	"fmt"
	"mime"
	"path"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"

	"github.com/aiskao/aiskao/envelope"
)

// MetaFilename is the metadata name holding the base name of the file a message came from.
const MetaFilename = "filename"

// Stat is what tells whether a file is still being written.
type Stat struct {
	Size int64
	Mod  time.Time
}

// CheckPattern reports whether pattern is a glob of base names: valid, and without a separator
// (seps lists the ones the folder's system uses).
func CheckPattern(pattern, seps string) error {
	if _, err := path.Match(pattern, ""); err != nil || strings.ContainsAny(pattern, seps) {
		return fmt.Errorf("%q is not a glob of base names such as *.xml", pattern)
	}
	return nil
}

// CheckContentType reports whether ct, when set, is a media type.
func CheckContentType(ct string) error {
	if ct == "" {
		return nil
	}
	if mt, _, err := mime.ParseMediaType(ct); err != nil || !strings.Contains(mt, "/") {
		return fmt.Errorf("%q is not a media type such as application/xml", ct)
	}
	return nil
}

// Wanted reports whether the file name is taken: it matches pattern (checked by CheckPattern) and
// is neither hidden nor a writer's temporary file (.tmp), such as the sinks' own.
func Wanted(pattern, name string) bool {
	if strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".tmp") {
		return false
	}
	ok, _ := path.Match(pattern, name)
	return ok
}

// Message makes the message of a taken file: its payload, the file's name in MetaFilename, the
// content type (contentType, or a guess from the extension when empty) and the envelope's type
// when messageType is set.
func Message(id, name string, data []byte, contentType, messageType string) *message.Message {
	msg := message.NewMessage(id, data)
	msg.Metadata.Set(MetaFilename, name)
	if contentType == "" {
		contentType = guessType(name)
	}
	msg.Metadata.Set(envelope.ContentType, contentType)
	if messageType != "" {
		msg.Metadata.Set(envelope.Type, messageType)
	}
	return msg
}

func guessType(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".xml":
		return "application/xml"
	case ".json":
		return "application/json"
	}
	return "application/octet-stream"
}

// Tracker remembers, from one poll of the folder to the next, the size and time of the files, so
// that a file is taken only once it stopped changing, and the files that were handled but could
// not be moved away, so that they are not taken again while unchanged. It is owned by the
// polling goroutine.
type Tracker struct {
	seen, next, stuck map[string]Stat
}

// Ready records st as name's state at this poll and reports whether the file is to be taken: it
// was the same at the previous poll (new or still being written otherwise) and is not stuck as it
// is.
func (t *Tracker) Ready(name string, st Stat) bool {
	if t.next == nil {
		t.next = map[string]Stat{}
	}
	t.next[name] = st
	if prev, ok := t.seen[name]; !ok || prev != st {
		return false
	}
	if stuck, ok := t.stuck[name]; ok && stuck == st {
		return false
	}
	delete(t.stuck, name)
	return true
}

// Stuck marks name, as st, as not to be taken again while unchanged.
func (t *Tracker) Stuck(name string, st Stat) {
	if t.stuck == nil {
		t.stuck = map[string]Stat{}
	}
	t.stuck[name] = st
}

// Polled ends a poll: the files recorded by Ready are those the next poll compares with.
func (t *Tracker) Polled() {
	t.seen, t.next = t.next, nil
}

// Seen reports whether name was recorded at the last finished poll.
func (t *Tracker) Seen(name string) bool {
	_, ok := t.seen[name]
	return ok
}

// Reset forgets everything, for a new run.
func (t *Tracker) Reset() { *t = Tracker{} }

// ErrNoFreeName is FreeName's answer when name and its numbered forms are all taken.
var ErrNoFreeName = errors.New("no free name")

// FreeName returns name, or name numbered before its extension (a-1.xml, a-2.xml, ...) when it is
// taken in the folder a file is moved to; taken tells whether a name is.
func FreeName(name string, taken func(name string) (bool, error)) (string, error) {
	ext := path.Ext(name)
	stem := strings.TrimSuffix(name, ext)
	candidate := name
	for n := 1; ; n++ {
		t, err := taken(candidate)
		if err != nil {
			return "", err
		}
		if !t {
			return candidate, nil
		}
		if n > 9999 {
			return "", fmt.Errorf("%w for %s", ErrNoFreeName, name)
		}
		candidate = fmt.Sprintf("%s-%d%s", stem, n, ext)
	}
}

// ID names a taken file by its source's id space, the connector, the file's name, size and
// modification time (mod, in the unit the folder keeps it in): a file offered again after a stop
// between storing its message and moving it keeps its id, which the routes' idempotency
// recognises; the same name dropped again later is a new file with a new time, and a new message.
func ID(space uuid.UUID, connector, name string, size, mod int64) string {
	return uuid.NewSHA1(space, []byte(fmt.Sprintf("%s\x00%s\x00%d\x00%d", connector, name, size, mod))).String()
}
