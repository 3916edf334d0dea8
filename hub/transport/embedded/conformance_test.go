package embedded

import (
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aiskao/aiskao/hub/transport/transporttest"
	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/transport"
)

// TestConformance runs the hub's transport conformance suite, each test on its own file.
func TestConformance(t *testing.T) {
	const closeTimeout = 300 * time.Millisecond
	var (
		mu    sync.Mutex
		files = map[transport.Transport]string{}
	)
	openFile := func(t *testing.T, file string) transport.Transport {
		tr, err := New(Config{
			File:         file,
			CloseTimeout: spec.Duration(closeTimeout),
			PollInterval: spec.Duration(20 * time.Millisecond),
		}, transport.Env{})
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		files[tr] = file
		mu.Unlock()
		return tr
	}
	transporttest.Run(t, transporttest.Factory{
		New: func(t *testing.T) transport.Transport {
			return openFile(t, filepath.Join(t.TempDir(), "conformance.db"))
		},
		Reopen: func(t *testing.T, old transport.Transport) transport.Transport {
			mu.Lock()
			file, ok := files[old]
			mu.Unlock()
			if !ok {
				t.Fatal("Reopen: transport not made by New")
			}
			return openFile(t, file)
		},
		CloseTimeout: closeTimeout,
	})
}
