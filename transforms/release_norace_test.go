//go:build !race

package transforms

import (
	"os"
	"runtime"
	"testing"
)

// TestReleaseTakesTheMemoryBack: a message whose document a step replaced by a JSON value, as
// xml_to_json does, hands the document's memory back on Release. (The race detector makes
// sync.Pool drop what it is given now and then, so this is measured without it.)
func TestReleaseTakesTheMemoryBack(t *testing.T) {
	doc, err := os.ReadFile("../testdata/esoed/registration-request.xml")
	if err != nil {
		t.Fatal(err)
	}
	run := func(release bool) uint64 {
		least := ^uint64(0)
		for range 3 {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for range 10 {
				m := NewMessage("m", nil, doc)
				if _, err := m.XML(); err != nil {
					t.Fatal(err)
				}
				m.SetJSON(map[string]any{"k": "v"})
				if release {
					m.Release()
				}
			}
			runtime.ReadMemStats(&after)
			least = min(least, after.TotalAlloc-before.TotalAlloc)
		}
		return least
	}
	released, kept := run(true), run(false)
	if released*2 > kept {
		t.Errorf("ten messages allocated %d bytes released, %d not: want half or less", released, kept)
	}
	t.Logf("ten messages: %d bytes released, %d not", released, kept)
}
