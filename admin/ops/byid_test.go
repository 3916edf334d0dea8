package ops

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestDeadLetterByMessageID checks that the dead-letter endpoints accept the id of the message a
// dead letter holds (what a source answered the sender with) as well as the dead letter's own id.
func TestDeadLetterByMessageID(t *testing.T) {
	for _, tc := range []struct {
		method, target string
		status         int
		check          func(t *testing.T, f *fixture, body string)
	}{
		{"GET", "/api/v1/dead-letters/m-1", http.StatusOK, func(t *testing.T, f *fixture, body string) {
			if !strings.Contains(body, `"id":"`+f.ids["utf8"]+`"`) || !strings.Contains(body, `"message_id":"m-1"`) {
				t.Errorf("GET by message id answered:\n%s", body)
			}
		}},
		{"GET", "/api/v1/dead-letters/{utf8}", http.StatusOK, nil},
		{"GET", "/api/v1/dead-letters/m-404", http.StatusNotFound, nil},
		{"DELETE", "/api/v1/dead-letters/m-2", http.StatusNoContent, func(t *testing.T, f *fixture, _ string) {
			f.mustGone(t, "binary")
			f.mustKept(t, "utf8")
		}},
		{"POST", "/api/v1/dead-letters/m-4/replay", http.StatusAccepted, func(t *testing.T, f *fixture, body string) {
			f.mustGone(t, "empty")
			if !strings.Contains(body, `"id":"`+f.ids["empty"]+`"`) {
				t.Errorf("replay answered:\n%s", body)
			}
		}},
	} {
		t.Run(tc.method+" "+tc.target, func(t *testing.T) {
			f := newFixture(t)
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(tc.method, f.expand(tc.target), nil)
			req.Header.Set("Authorization", "Bearer "+f.tokens["operator"])
			f.handler().ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d; body:\n%s", rec.Code, tc.status, rec.Body)
			}
			if tc.check != nil {
				tc.check(t, f, rec.Body.String())
			}
		})
	}
}
