package charset

import (
	"bytes"
	"testing"
)

// FuzzDecode: whatever the bytes, decoding either refuses them at a byte that is really bad or
// gives valid UTF-8 that encodes back to the same bytes.
func FuzzDecode(f *testing.F) {
	f.Add([]byte("\xc8\xe2\xe0\xed \x98"), uint8(0))
	f.Add([]byte("\x88\xa2\xa0\xad\r\n"), uint8(1))
	f.Add([]byte("\xe9\xd7\xc1\xce"), uint8(2))
	f.Add([]byte("\xef\xbb\xbfИван\xff"), uint8(3))
	sets := []string{"windows-1251", "cp866", "koi8-r", "utf-8"}
	f.Fuzz(func(t *testing.T, data []byte, which uint8) {
		c, _ := Lookup(sets[int(which)%len(sets)])
		dec, err := c.Decode(nil, data)
		if err != nil {
			be, ok := err.(*ByteError)
			if !ok || be.Offset < 0 || be.Offset >= len(data) || data[be.Offset] != be.Byte {
				t.Fatalf("error %v does not point at a byte of the input", err)
			}
			return
		}
		enc, err := c.Encode(nil, dec)
		if err != nil {
			t.Fatalf("decoded text does not encode back: %v", err)
		}
		if !bytes.Equal(enc, data) {
			t.Fatalf("round trip: %x → %x", data, enc)
		}
	})
}
