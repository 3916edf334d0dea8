package rabbitmq

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/ThreeDotsLabs/watermill/message"
)

// Packs. With pack above 1, messages that concurrent publishes send to one topic while the
// transport waits for the broker's confirmation of the previous ones travel together as one
// broker message, a pack: the broker stores, replicates, confirms, delivers and acknowledges one
// message instead of several. On 2 cores, a quorum queue took about 100 µs of the broker's CPU for
// each 3.7 kB message sent alone, and 30–37 µs a message in packs of eight.
//
// A pack's body is, after the four bytes "AKP\x01", the count of its messages and each message's
// id, metadata and payload, every length and count an unsigned varint. The pack carries the
// packHeader so that consumers tell it from a message; it is never a message of its own.

// packHeader marks a broker message that is a pack; its value is the count of messages.
const packHeader = "aiskao-pack"

// packMagic starts the body of every pack.
const packMagic = "AKP\x01"

// Bounds of what a pack may hold, so that reading one is bounded whatever its bytes say.
const (
	// packMaxMessages is the most messages a pack may hold.
	packMaxMessages = 4096
	// packMaxMetadata is the most metadata entries of a message in a pack.
	packMaxMetadata = 1024
	// packMaxBytes is the most a pack's messages (their ids, metadata and payloads) may add up
	// to; a publisher closes a pack before it grows beyond.
	packMaxBytes = 1 << 20
	// packAlone: a message larger than this is always sent alone, as it gains nothing from
	// sharing the broker's work with others.
	packAlone = 64 << 10
)

// packed is one message read from a pack. Its payload is a part of the pack's body.
type packed struct {
	id       string
	metadata message.Metadata
	payload  []byte
}

// packSize is what m adds to a pack, as packMaxBytes counts it.
func packSize(m *message.Message) int {
	n := len(m.UUID) + len(m.Payload)
	for k, v := range m.Metadata {
		n += len(k) + len(v)
	}
	return n
}

// encodePack writes msgs as the body of one pack. The metadata is written in the order of its
// keys, so that equal messages make equal packs.
func encodePack(msgs []*message.Message) []byte {
	size := len(packMagic) + binary.MaxVarintLen64
	for _, m := range msgs {
		size += packSize(m) + (3+2*len(m.Metadata))*binary.MaxVarintLen32
	}
	b := make([]byte, 0, size)
	b = append(b, packMagic...)
	b = binary.AppendUvarint(b, uint64(len(msgs)))
	keys := make([]string, 0, 8)
	for _, m := range msgs {
		b = appendString(b, m.UUID)
		keys = slices.AppendSeq(keys[:0], maps.Keys(m.Metadata))
		slices.Sort(keys)
		b = binary.AppendUvarint(b, uint64(len(keys)))
		for _, k := range keys {
			b = appendString(b, k)
			b = appendString(b, m.Metadata[k])
		}
		b = binary.AppendUvarint(b, uint64(len(m.Payload)))
		b = append(b, m.Payload...)
	}
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// errPack is wrapped by every error of decodePack.
var errPack = errors.New("not a valid pack")

// decodePack reads the messages of a pack body. It reads each byte once, refuses counts beyond
// the bounds and lengths beyond what is left, and fails on anything after the last message.
// Payloads are parts of body, not copies.
func decodePack(body []byte) ([]packed, error) {
	r := packReader{b: body}
	if len(body) < len(packMagic) || string(body[:len(packMagic)]) != packMagic {
		return nil, fmt.Errorf("%w: it does not start with %q", errPack, packMagic)
	}
	r.off = len(packMagic)
	n, err := r.count("messages", packMaxMessages)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, fmt.Errorf("%w: it holds no message", errPack)
	}
	// Each message takes four bytes at least (its id's length and one byte of it, the count
	// of its metadata, its payload's length): a count the body cannot hold is refused before
	// anything is made for it.
	if n > (len(body)-r.off)/4 {
		return nil, fmt.Errorf("%w: %d messages cannot fit in the %d bytes left", errPack, n, len(body)-r.off)
	}
	out := make([]packed, n)
	for i := range out {
		p := &out[i]
		id, err := r.bytes("id")
		if err != nil {
			return nil, fmt.Errorf("message %d: %w", i, err)
		}
		if len(id) == 0 {
			return nil, fmt.Errorf("message %d: %w: empty id at byte %d", i, errPack, r.off)
		}
		p.id = string(id)
		nm, err := r.count("metadata entries", packMaxMetadata)
		if err != nil {
			return nil, fmt.Errorf("message %s: %w", p.id, err)
		}
		p.metadata = make(message.Metadata, nm)
		for range nm {
			k, err := r.bytes("metadata key")
			if err != nil {
				return nil, fmt.Errorf("message %s: %w", p.id, err)
			}
			v, err := r.bytes("metadata value")
			if err != nil {
				return nil, fmt.Errorf("message %s: %w", p.id, err)
			}
			p.metadata[string(k)] = string(v)
		}
		if p.payload, err = r.bytes("payload"); err != nil {
			return nil, fmt.Errorf("message %s: %w", p.id, err)
		}
	}
	if r.off != len(body) {
		return nil, fmt.Errorf("%w: %d bytes after the last message", errPack, len(body)-r.off)
	}
	return out, nil
}

// packReader reads the parts of a pack body.
type packReader struct {
	b   []byte
	off int
}

func (r *packReader) uvarint(what string) (uint64, error) {
	v, n := binary.Uvarint(r.b[r.off:])
	if n <= 0 {
		return 0, fmt.Errorf("%w: the length of the %s at byte %d is cut off or too long", errPack, what, r.off)
	}
	r.off += n
	return v, nil
}

func (r *packReader) count(what string, limit int) (int, error) {
	at := r.off
	v, err := r.uvarint(what)
	if err != nil {
		return 0, err
	}
	if v > uint64(limit) {
		return 0, fmt.Errorf("%w: %d %s at byte %d, more than %d", errPack, v, what, at, limit)
	}
	return int(v), nil
}

func (r *packReader) bytes(what string) ([]byte, error) {
	at := r.off
	v, err := r.uvarint(what)
	if err != nil {
		return nil, err
	}
	if v > uint64(len(r.b)-r.off) {
		return nil, fmt.Errorf("%w: the %s at byte %d says %d bytes, %d are left", errPack, what, at, v, len(r.b)-r.off)
	}
	s := r.b[r.off : r.off+int(v) : r.off+int(v)]
	r.off += int(v)
	return s, nil
}
