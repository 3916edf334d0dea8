package rabbitmq

import (
	"sync"
	"testing"
	"time"

	"github.com/aiskao/aiskao/hub/transport/transporttest"
	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/transport"
)

// TestConformance runs the hub's transport conformance suite against the real broker, each test
// with queue and exchange names of its own.
func TestConformance(t *testing.T) {
	const closeTimeout = 500 * time.Millisecond
	var (
		mu   sync.Mutex
		cfgs = map[transport.Transport]Config{}
	)
	openCfg := func(t *testing.T, cfg Config) transport.Transport {
		tr, err := New(cfg, transport.Env{})
		if err != nil {
			t.Fatal(err)
		}
		tr.onDeclare = record(cfg.QueuePrefix)
		t.Cleanup(func() { tr.Close() })
		mu.Lock()
		cfgs[tr] = cfg
		mu.Unlock()
		return tr
	}
	transporttest.Run(t, transporttest.Factory{
		New: func(t *testing.T) transport.Transport {
			cfg := testConfig(t)
			cfg.CloseTimeout = spec.Duration(closeTimeout)
			return openCfg(t, cfg)
		},
		Reopen: func(t *testing.T, old transport.Transport) transport.Transport {
			mu.Lock()
			cfg := cfgs[old]
			mu.Unlock()
			return openCfg(t, cfg)
		},
		CloseTimeout: closeTimeout,
	})
}
