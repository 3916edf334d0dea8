package httpconn

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/connectors/connectortest"
	"github.com/aiskao/aiskao/internal/bytesize"
)

// BenchmarkHTTPSource posts bodies through a real listener on 127.0.0.1 to a source whose emit
// does nothing, so it measures the connector and net/http, not the store.
func BenchmarkHTTPSource(b *testing.B) {
	for _, size := range []int{1 << 10, 64 << 10, 1 << 20} {
		b.Run(bytesize.Format(int64(size)), func(b *testing.B) {
			ts := newTestServer(b)
			src := ts.source(b, "bench", Config{Path: "/in"})
			connectortest.Running(b, src, func(context.Context, ...*message.Message) error { return nil })
			body := bytes.Repeat([]byte("x"), size)
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			defer client.CloseIdleConnections()
			url := ts.srv.URL + "/in"
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					resp, err := client.Post(url, "application/xml", bytes.NewReader(body))
					if err != nil {
						panic(err)
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
					if resp.StatusCode != http.StatusAccepted {
						panic(fmt.Sprintf("status %d", resp.StatusCode))
					}
				}
			})
		})
	}
}
