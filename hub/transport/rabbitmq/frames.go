package rabbitmq

import (
	"encoding/binary"
	"net"
)

// maxHeld is the most bytes of an unfinished frame a frameJoiner holds back for the next write.
// A publish of up to that much is one write; a larger frame goes out with what was held in one
// call (a vectored write, nothing copied), its end octet after it.
const maxHeld = 256 << 10

// frameJoiner is a plain (not TLS) AMQP connection whose writes end on frame boundaries. The
// client library writes through a buffer of 4 KiB and empties it whenever it fills: a publish of
// the hub's 3.7 kB message (method, header and body frames, past 4 KiB with the hub's headers)
// became two system calls and two TCP segments, one of 30 kB three. Asked to, the library empties
// its buffer only after whole frames (a frame sent alone, the last frame of a message), so a
// write that ends inside a frame is always followed by the rest of that frame: the joiner keeps
// such a tail (up to maxHeld) and writes it with what comes next, in one call. Writes come one
// at a time (the library holds its send lock around them).
type frameJoiner struct {
	net.Conn
	skip int    // bytes of the protocol header still to pass, which is not a frame
	need int    // bytes of the current frame not yet seen (payload and end octet), past its header
	head []byte // the part of the current frame's 7-byte header seen so far
	held []byte // bytes of an unfinished frame not yet written
	bufs net.Buffers
}

// frameHeaderLen is an AMQP frame's header: type (1), channel (2), payload size (4). The payload
// and an end octet follow.
const frameHeaderLen = 7

func newFrameJoiner(c net.Conn) *frameJoiner {
	return &frameJoiner{Conn: c, skip: len("AMQP\x00\x00\x09\x01"), head: make([]byte, 0, frameHeaderLen)}
}

// track follows the frames through p and reports whether p ends on a frame boundary.
func (f *frameJoiner) track(p []byte) bool {
	if f.skip > 0 {
		n := min(f.skip, len(p))
		f.skip -= n
		p = p[n:]
	}
	for len(p) > 0 {
		if f.need > 0 {
			n := min(f.need, len(p))
			f.need -= n
			p = p[n:]
			continue
		}
		n := min(frameHeaderLen-len(f.head), len(p))
		f.head = append(f.head, p[:n]...)
		p = p[n:]
		if len(f.head) == frameHeaderLen {
			f.need = int(binary.BigEndian.Uint32(f.head[3:])) + 1
			f.head = f.head[:0]
		}
	}
	return f.skip == 0 && f.need == 0 && len(f.head) == 0
}

func (f *frameJoiner) Write(p []byte) (int, error) {
	boundary := f.track(p)
	if len(f.held) == 0 && boundary {
		return f.Conn.Write(p)
	}
	if len(f.held)+len(p) <= maxHeld {
		f.held = append(f.held, p...)
		if !boundary {
			return len(p), nil
		}
		_, err := f.Conn.Write(f.held)
		f.release()
		if err != nil {
			// The connection is broken either way: the library closes it on any write error.
			return 0, err
		}
		return len(p), nil
	}
	// A frame larger than is held: what was held and p in one call, neither copied.
	f.bufs = append(f.bufs[:0], f.held, p)
	n, err := f.bufs.WriteTo(f.Conn)
	f.bufs = f.bufs[:0]
	held := len(f.held)
	f.release()
	if err != nil {
		return max(0, int(n)-held), err
	}
	return len(p), nil
}

// release empties the held bytes, keeping their room unless a large message took it.
func (f *frameJoiner) release() {
	f.held = f.held[:0]
	if cap(f.held) > 64<<10 {
		f.held = nil
	}
}
