// Package mask hides personal data in what the hub shows to those who may not see it: every run of
// exactly ten digits, an ЕГН or an ЛНЧ, keeps only its last four ("8506258485" becomes
// "******8485"), as the journal keeps them. Shorter and longer runs (ЕИК, phone numbers) are left
// alone. It works on bytes, so text in any ASCII-compatible encoding is masked alike, in one pass
// over its input.
package mask

// PersonalNumbers returns s with every ЕГН and ЛНЧ masked.
func PersonalNumbers(s string) string {
	found := false
	runs(s, func(int) { found = true })
	if !found {
		return s // nothing to copy
	}
	return string(Bytes([]byte(s)))
}

// Bytes masks every ЕГН and ЛНЧ in b, in place, and returns b.
func Bytes(b []byte) []byte {
	runs(b, func(end int) {
		for j := end - 10; j < end-4; j++ {
			b[j] = '*'
		}
	})
	return b
}

// runs calls found with the end of every run of exactly ten ASCII digits in s.
func runs[T string | []byte](s T, found func(end int)) {
	run := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] >= '0' && s[i] <= '9' {
			run++
			continue
		}
		if run == 10 {
			found(i)
		}
		run = 0
	}
}

// Map returns a copy of m with every value masked; nil stays nil.
func Map(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = PersonalNumbers(v)
	}
	return out
}
