package hub

import (
	"context"
	"errors"
	"testing"
	"time"
)

type ctxKey struct{}

// TestStepTimeout: the step's context ends as context.WithTimeoutCause's would, whichever way it
// is asked, and a step that never asks makes no timer.
func TestStepTimeout(t *testing.T) {
	const d = 30 * time.Millisecond
	tests := []struct {
		name      string
		run       func(t *testing.T, ctx context.Context, cancel context.CancelFunc, parentCancel context.CancelFunc) // ends ctx as the case says
		wantErr   error
		wantCause error
	}{
		{"waited on until the deadline", func(t *testing.T, ctx context.Context, _, _ context.CancelFunc) {
			<-ctx.Done()
		}, context.DeadlineExceeded, errStepTimeout},
		{"asked after the deadline, never waited on", func(t *testing.T, ctx context.Context, _, _ context.CancelFunc) {
			if err := ctx.Err(); err != nil {
				t.Errorf("Err before the deadline = %v", err)
			}
			time.Sleep(d + 10*time.Millisecond)
		}, context.DeadlineExceeded, errStepTimeout},
		{"a context derived from it", func(t *testing.T, ctx context.Context, _, _ context.CancelFunc) {
			child, stop := context.WithCancel(ctx)
			defer stop()
			<-child.Done()
			if got := context.Cause(child); !errors.Is(got, errStepTimeout) {
				t.Errorf("derived context's cause = %v, want %v", got, errStepTimeout)
			}
		}, context.DeadlineExceeded, errStepTimeout},
		{"the parent ends first", func(t *testing.T, ctx context.Context, _, parentCancel context.CancelFunc) {
			parentCancel()
		}, context.Canceled, context.Canceled},
		{"the parent ends while waited on", func(t *testing.T, ctx context.Context, _, parentCancel context.CancelFunc) {
			done := ctx.Done()
			parentCancel()
			<-done
		}, context.Canceled, context.Canceled},
		{"cancelled by its step", func(t *testing.T, ctx context.Context, cancel, _ context.CancelFunc) {
			cancel()
			<-ctx.Done()
		}, context.Canceled, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent, parentCancel := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "v"))
			defer parentCancel()
			ctx, cancel := withStepTimeout(parent, d)
			defer cancel()
			if ctx.Value(ctxKey{}) != "v" {
				t.Error("the parent's value is not seen")
			}
			if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > d {
				t.Errorf("deadline %v %v, want within %s", dl, ok, d)
			}
			tt.run(t, ctx, cancel, parentCancel)
			if err := ctx.Err(); err != tt.wantErr {
				t.Errorf("Err = %v, want %v", err, tt.wantErr)
			}
			if got := context.Cause(ctx); got != tt.wantCause {
				t.Errorf("Cause = %v, want %v", got, tt.wantCause)
			}
			select {
			case <-ctx.Done():
			default:
				t.Error("Done is not closed")
			}
			if ctx.Value(ctxKey{}) != "v" {
				t.Error("the parent's value is not seen once ended")
			}
		})
	}
}

// TestStepTimeoutUnasked: a step that reads only values and its deadline makes no timer, and
// costs two allocations (the context and its cancel function), not the four of a context with a
// timer.
func TestStepTimeoutUnasked(t *testing.T) {
	parent := context.WithValue(context.Background(), ctxKey{}, "v")
	n := testing.AllocsPerRun(100, func() {
		ctx, cancel := withStepTimeout(parent, time.Minute)
		_ = ctx.Value(ctxKey{})
		_, _ = ctx.Deadline()
		_ = ctx.Err()
		cancel()
	})
	if n > 2 {
		t.Errorf("%v allocations a step, want at most 2", n)
	}
	ctx, cancel := withStepTimeout(parent, time.Minute)
	defer cancel()
	if ctx.(*stepContext).made() != nil {
		t.Error("the timer was started for a step that did not wait")
	}
}

// TestStepTimeoutParentDeadline: the earlier of the parent's deadline and the step's is the
// context's.
func TestStepTimeoutParentDeadline(t *testing.T) {
	parent, stop := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer stop()
	want, _ := parent.Deadline()
	ctx, cancel := withStepTimeout(parent, time.Minute)
	defer cancel()
	if got, _ := ctx.Deadline(); !got.Equal(want) {
		t.Errorf("deadline %v, want the parent's %v", got, want)
	}
	<-ctx.Done()
	if ctx.Err() != context.DeadlineExceeded {
		t.Errorf("Err = %v, want %v", ctx.Err(), context.DeadlineExceeded)
	}
}
