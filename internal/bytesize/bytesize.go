// Package bytesize writes sizes in bytes the way people read limits, for the messages that name
// a connector's limit (max_size, max_body).
package bytesize

import "fmt"

// Format writes n bytes in the largest unit that divides it: "10 MiB", "512 KiB", "1000 bytes".
func Format(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
