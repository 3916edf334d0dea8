package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// parseSize reads a message size: plain bytes, or with a unit of KB or MB (powers of 1000) or
// KiB or MiB (powers of 1024). An empty string or 0 means the sample as it is.
func parseSize(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	units := []struct {
		suffix string
		factor int
	}{{"kib", 1 << 10}, {"mib", 1 << 20}, {"kb", 1000}, {"mb", 1000 * 1000}, {"b", 1}}
	num, factor := strings.ToLower(s), 1
	for _, u := range units {
		if n, ok := strings.CutSuffix(num, u.suffix); ok {
			num, factor = strings.TrimSpace(n), u.factor
			break
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("bench: size %q: want bytes, or a number with KB, MB, KiB or MiB", s)
	}
	return int(v * float64(factor)), nil
}

// sizedSample grows the sample to size bytes by replacing the body of its first attachment
// with base64 of the right length, the same every run. The base64 is padded with line breaks,
// which xsd:base64Binary (and the demo schema's pattern) allow, so that the size is exact. Size
// 0 returns the sample unchanged.
func sizedSample(sample []byte, size int) ([]byte, error) {
	if size == 0 {
		return sample, nil
	}
	const open, closing = "<AttBody>", "</AttBody>"
	i := bytes.Index(sample, []byte(open))
	j := bytes.Index(sample, []byte(closing))
	if i < 0 || j < i {
		return nil, fmt.Errorf("bench: -size needs a sample with an %s element to grow", open)
	}
	start := i + len(open)
	base := len(sample) - (j - start)
	need := size - base
	if need < 4 {
		return nil, fmt.Errorf("bench: size %d is below the sample without its attachment; the smallest is %d bytes", size, base+4)
	}
	raw := make([]byte, need/4*3)
	r := rand.New(rand.NewChaCha8([32]byte{'a', 'i', 's', 'k', 'a', 'o'}))
	for k := range raw {
		raw[k] = byte(r.Uint32())
	}
	out := make([]byte, 0, size)
	out = append(out, sample[:start]...)
	out = base64.StdEncoding.AppendEncode(out, raw)
	out = append(out, bytes.Repeat([]byte("\n"), need%4)...)
	out = append(out, sample[j:]...)
	return out, nil
}
