package rabbitmq

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"sync/atomic"
	"testing"
)

// recordingConn is a connection that keeps what it was given and counts the calls.
type recordingConn struct {
	net.Conn
	writes  int
	written []byte
}

func (c *recordingConn) Write(p []byte) (int, error) {
	c.writes++
	c.written = append(c.written, p...)
	return len(p), nil
}

// frame returns an AMQP frame with a payload of n bytes.
func frame(typ byte, n int) []byte {
	b := []byte{typ, 0, 1, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(b[3:], uint32(n))
	b = append(b, bytes.Repeat([]byte{'x'}, n)...)
	return append(b, 0xCE)
}

// TestFrameJoinerPublish: a publish written as the client library writes it (frames through a
// 4 KiB buffer emptied when full and at the end) is one write, however large up to maxHeld, and
// the bytes are those written.
func TestFrameJoinerPublish(t *testing.T) {
	tests := []struct {
		name       string
		body       int
		wantWrites int
	}{
		{"small message", 500, 1},
		{"3.7 kB, past the buffer", 3763, 1},
		{"30 kB", 30 << 10, 1},
		// The held bytes and the payload in one call on a socket (two here), then the end octet.
		{"300 kB, past what is held", 300 << 10, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := &recordingConn{}
			j := newFrameJoiner(rc)
			w := bufio.NewWriter(j)
			w.WriteString("AMQP\x00\x00\x09\x01")
			w.Flush()
			rc.writes, rc.written = 0, nil
			var want []byte
			for _, f := range [][]byte{frame(1, 40), frame(2, 300), frame(3, tt.body)} {
				want = append(want, f...)
				// As the library writes a frame: header, payload, end octet.
				w.Write(f[:7])
				w.Write(f[7 : len(f)-1])
				w.Write(f[len(f)-1:])
			}
			w.Flush()
			if rc.writes != tt.wantWrites {
				t.Errorf("%d writes, want %d", rc.writes, tt.wantWrites)
			}
			if !bytes.Equal(rc.written, want) {
				t.Error("the bytes written are not the frames")
			}
			if len(j.held) != 0 {
				t.Errorf("%d bytes held after the frames ended", len(j.held))
			}
		})
	}
}

// TestFrameJoinerSplits: whatever the pieces the stream comes in, every byte is written in
// order, and nothing is held once a piece ends on a frame boundary.
func TestFrameJoinerSplits(t *testing.T) {
	var stream []byte
	var ends []int // offsets of frame boundaries
	stream = append(stream, "AMQP\x00\x00\x09\x01"...)
	ends = append(ends, len(stream))
	r := rand.New(rand.NewPCG(1, 2))
	for range 100 {
		n := r.IntN(9000)
		if r.IntN(20) == 0 {
			n = maxHeld + r.IntN(9000) // past what is held
		}
		if r.IntN(10) == 0 {
			n = 0 // heartbeats
		}
		stream = append(stream, frame(byte(1+r.IntN(3)), n)...)
		ends = append(ends, len(stream))
	}
	isEnd := map[int]bool{}
	for _, e := range ends {
		isEnd[e] = true
	}
	for round := range 50 {
		rc := &recordingConn{}
		j := newFrameJoiner(rc)
		for off := 0; off < len(stream); {
			var n int
			switch round % 3 {
			case 0:
				n = 1 + r.IntN(10) // header bytes split too
			case 1:
				n = 1 + r.IntN(5000)
			default:
				n = ends[min(len(ends)-1, 1+r.IntN(len(ends)))] - off // up to some boundary
				if n <= 0 {
					n = 1 + r.IntN(100)
				}
			}
			n = min(n, len(stream)-off)
			if _, err := j.Write(stream[off : off+n]); err != nil {
				t.Fatal(err)
			}
			off += n
			written := len(rc.written)
			if isEnd[off] && written != off {
				t.Fatalf("round %d: at a frame boundary (%d) only %d bytes written", round, off, written)
			}
			if written+len(j.held) != off {
				t.Fatalf("round %d: %d written and %d held of %d", round, written, len(j.held), off)
			}
		}
		if !bytes.Equal(rc.written, stream) {
			t.Fatalf("round %d: the bytes written are not the stream", round)
		}
	}
}

// chunkConn is a connection whose reads return the chunks given, one a call, then err.
type chunkConn struct {
	net.Conn
	chunks [][]byte
	err    error
	reads  int
}

func (c *chunkConn) Read(p []byte) (int, error) {
	c.reads++
	if len(c.chunks) == 0 {
		return 0, c.err
	}
	n := copy(p, c.chunks[0])
	c.chunks[0] = c.chunks[0][n:]
	if len(c.chunks[0]) == 0 {
		c.chunks = c.chunks[1:]
		if len(c.chunks) == 0 && c.err != nil {
			return n, c.err // the last bytes come with the error
		}
	}
	return n, nil
}

// TestReadAhead: the library's small reads are served from one read of what has arrived; every
// byte comes in order, then the error, once; the time of the last bytes is noted.
func TestReadAhead(t *testing.T) {
	var stream []byte
	for i := range 20 {
		stream = append(stream, frame(3, 3763+i)...)
	}
	broken := errors.New("connection reset")
	tests := []struct {
		name      string
		chunks    []int // sizes the socket hands out, the rest in one
		wantReads int   // reads of the socket up to the error
	}{
		{"all arrived at once", nil, 2},
		{"in two arrivals", []int{5000}, 3},
		{"byte by byte at first", []int{1, 1, 1, 1, 1}, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &chunkConn{err: broken}
			off := 0
			for _, n := range tt.chunks {
				c.chunks = append(c.chunks, stream[off:off+n])
				off += n
			}
			c.chunks = append(c.chunks, stream[off:])
			var at atomic.Int64
			r := bufio.NewReaderSize(&readNoter{Conn: c, at: &at}, 4096) // as the library reads
			got, err := io.ReadAll(r)
			if !errors.Is(err, broken) {
				t.Errorf("error %v, want %v", err, broken)
			}
			if !bytes.Equal(got, stream) {
				t.Errorf("read %d bytes, not the %d sent", len(got), len(stream))
			}
			if c.reads != tt.wantReads {
				t.Errorf("%d reads of the socket, want %d", c.reads, tt.wantReads)
			}
			if at.Load() == 0 {
				t.Error("the time of the bytes read is not noted")
			}
		})
	}
}
