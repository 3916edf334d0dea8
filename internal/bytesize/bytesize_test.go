package bytesize

import "testing"

func TestFormat(t *testing.T) {
	for n, want := range map[int64]string{
		0: "0 bytes", 1000: "1000 bytes", 1024: "1 KiB", 512 << 10: "512 KiB", 1536: "1536 bytes",
		10 << 20: "10 MiB", 1<<20 + 1024: "1025 KiB", 1 << 30: "1 GiB", 3 << 30: "3 GiB",
	} {
		if got := Format(n); got != want {
			t.Errorf("Format(%d) = %q; want %q", n, got, want)
		}
	}
}
