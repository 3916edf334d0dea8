// Package mask hides personal data in what the hub shows to those who may not see it: every run of
// exactly ten digits, an ЕГН or an ЛНЧ, keeps only its last four ("8506258485" becomes
// "******8485"), as the journal keeps them. Shorter and longer runs (ЕИК, phone numbers) are left
// alone. It works on bytes, so text in any ASCII-compatible encoding is masked alike, in one pass
// over its input.
package mask

// PersonalNumbers returns s with every ЕГН and ЛНЧ masked.
func PersonalNumbers(s string) string {
	if !hasRun(s) {
		return s
	}
	return string(Bytes([]byte(s)))
}

// Bytes masks every ЕГН and ЛНЧ in b, in place, and returns b.
func Bytes(b []byte) []byte {
	run := 0
	for i := 0; i <= len(b); i++ {
		if i < len(b) && b[i] >= '0' && b[i] <= '9' {
			run++
			continue
		}
		if run == 10 {
			for j := i - 10; j < i-4; j++ {
				b[j] = '*'
			}
		}
		run = 0
	}
	return b
}

// hasRun reports whether s holds a run of ten digits, so that strings without one are not copied.
func hasRun(s string) bool {
	run := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] >= '0' && s[i] <= '9' {
			run++
			continue
		}
		if run == 10 {
			return true
		}
		run = 0
	}
	return false
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
