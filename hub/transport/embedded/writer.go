package embedded

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/internal/jsonenc"
)

// publishReq is one Publish call waiting for its commit.
type publishReq struct {
	topic string
	rows  []row
	done  chan error // receives the commit's result, once
}

// row is a message encoded for its table row; payload is the caller's slice, not a copy.
type row struct {
	uuid     string
	metadata []byte
	payload  []byte
}

// publish hands msgs to the writer and waits until they are committed.
func (t *Transport) publish(topic string, msgs []*message.Message) error {
	req := &publishReq{topic: topic, rows: make([]row, len(msgs)), done: make(chan error, 1)}
	for i, m := range msgs {
		meta, err := jsonenc.Append(nil, map[string]string(m.Metadata))
		if err != nil {
			return fmt.Errorf("embedded: publish %s to %s: metadata: %w", m.UUID, topic, err)
		}
		payload := m.Payload
		if payload == nil {
			payload = []byte{} // the column is NOT NULL; an empty payload reads back empty
		}
		req.rows[i] = row{uuid: m.UUID, metadata: meta, payload: payload}
	}
	// The gate makes Close wait for the publishes it admitted, so that none is left unanswered.
	t.gate.RLock()
	if t.gateClosed {
		t.gate.RUnlock()
		return fmt.Errorf("embedded: publish to %s: %w", topic, ErrClosed)
	}
	t.publishing.Add(1)
	t.gate.RUnlock()
	defer t.publishing.Done()
	t.publishes <- req
	if err := <-req.done; err != nil {
		return fmt.Errorf("embedded: publish to %s: %w", topic, err)
	}
	return nil
}

// writer is the one goroutine that writes to the transport's tables. Whatever publishes and
// acknowledgements are waiting when it starts a transaction go into that transaction, so callers
// that arrive while a commit is syncing share the next one: under load a commit carries up to
// batch_max messages for the cost of one sync.
func (t *Transport) writer() {
	defer close(t.writerEnd)
	for {
		var batch []*publishReq
		select {
		case r := <-t.publishes:
			batch = append(batch, r)
		case <-t.ackKick:
			// Acknowledgements alone wait a little for company: a publish, or more acks.
			if d := t.cfg.AckInterval.D(); d > 0 {
				timer := time.NewTimer(d)
				select {
				case r := <-t.publishes:
					batch = append(batch, r)
				case <-timer.C:
				case <-t.stop:
				}
				timer.Stop()
			}
		case <-t.stop:
			// Close has waited for every admitted publish; only acknowledgements remain.
			t.write(nil)
			return
		}
		t.write(t.gather(batch))
	}
}

// gather adds the publishes already queued to batch, up to batch_max messages.
func (t *Transport) gather(batch []*publishReq) []*publishReq {
	n := 0
	for _, r := range batch {
		n += len(r.rows)
	}
	// Let the publishers released by the last commit queue their next messages, so that they
	// join this commit instead of forming a cohort of their own for the next one.
	runtime.Gosched()
	for n < t.cfg.BatchMax {
		select {
		case r := <-t.publishes:
			batch = append(batch, r)
			n += len(r.rows)
		default:
			return batch
		}
	}
	return batch
}

// write commits batch with the acknowledgements waiting, answers the publishers, and wakes the
// subscribers of the topics written.
func (t *Transport) write(batch []*publishReq) {
	t.ackMu.Lock()
	acks := t.acks
	t.acks = nil
	t.ackMu.Unlock()
	if len(batch) == 0 && len(acks) == 0 {
		return
	}
	err := t.commit(batch, acks)
	for try := 1; busy(err) && try < 3; try++ {
		// Another connection held the write lock past the busy timeout; the batch is intact.
		t.log.Warn("embedded transport: database busy, committing again", "try", try+1)
		err = t.commit(batch, acks)
	}
	if err != nil {
		t.log.Error("embedded transport: commit failed", "messages", len(batch), "acks", len(acks), "error", err)
		if len(acks) > 0 { // keep them for the next commit; a lost ack would only mean a redelivery
			t.ackMu.Lock()
			t.acks = append(acks, t.acks...)
			t.ackMu.Unlock()
		}
	}
	topics := map[string]struct{}{}
	for _, r := range batch {
		r.done <- err
		topics[r.topic] = struct{}{}
	}
	if err == nil && len(topics) > 0 {
		t.wake(topics)
	}
}

// commit writes one transaction: the messages with one pending row per subscribed group, then
// the acknowledgements, deleting each message that no group waits for any more. A commit with
// messages is durable: publishers are told their messages are stored only once they are on the
// disk. One with acknowledgements alone is relaxed: a power cut may take it back, and the
// messages are delivered again, as after any crash before an acknowledgement.
func (t *Transport) commit(batch []*publishReq, acks []ackRef) error {
	ctx := context.Background()
	tx, err := t.w.Begin(ctx, len(batch) > 0)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if len(batch) > 0 {
		insMsg, err := tx.PrepareContext(ctx, `INSERT INTO transport_messages (topic, uuid, metadata, payload) VALUES (?, ?, ?, ?)`)
		if err != nil {
			return fmt.Errorf("prepare: %w", err)
		}
		defer insMsg.Close()
		insPending, err := tx.PrepareContext(ctx, `INSERT INTO transport_pending (sub, seq) VALUES (?, ?)`)
		if err != nil {
			return fmt.Errorf("prepare: %w", err)
		}
		defer insPending.Close()
		subs := map[string][]int64{}
		for _, r := range batch {
			ids, ok := subs[r.topic]
			if !ok {
				if ids, err = subscriptions(ctx, tx.Tx, r.topic); err != nil {
					return err
				}
				subs[r.topic] = ids
			}
			for _, m := range r.rows {
				res, err := insMsg.ExecContext(ctx, r.topic, m.uuid, m.metadata, m.payload)
				if err != nil {
					return fmt.Errorf("insert message %s: %w", m.uuid, err)
				}
				seq, err := res.LastInsertId()
				if err != nil {
					return fmt.Errorf("insert message %s: %w", m.uuid, err)
				}
				for _, id := range ids {
					if _, err := insPending.ExecContext(ctx, id, seq); err != nil {
						return fmt.Errorf("insert message %s: pending: %w", m.uuid, err)
					}
				}
			}
		}
	}
	if len(acks) > 0 {
		delPending, err := tx.PrepareContext(ctx, `DELETE FROM transport_pending WHERE sub = ? AND seq = ?`)
		if err != nil {
			return fmt.Errorf("prepare: %w", err)
		}
		defer delPending.Close()
		delMsg, err := tx.PrepareContext(ctx, `DELETE FROM transport_messages WHERE seq = ?1 AND NOT EXISTS (SELECT 1 FROM transport_pending WHERE seq = ?1)`)
		if err != nil {
			return fmt.Errorf("prepare: %w", err)
		}
		defer delMsg.Close()
		for _, a := range acks {
			if _, err := delPending.ExecContext(ctx, a.sub, a.seq); err != nil {
				return fmt.Errorf("acknowledge: %w", err)
			}
			if _, err := delMsg.ExecContext(ctx, a.seq); err != nil {
				return fmt.Errorf("delete acknowledged message: %w", err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	t.commits.Add(1)
	return nil
}

// subscriptions lists the ids of the groups subscribed to topic.
func subscriptions(ctx context.Context, tx *sql.Tx, topic string) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id FROM transport_subscriptions WHERE topic = ?`, topic)
	if err != nil {
		return nil, fmt.Errorf("subscriptions of %s: %w", topic, err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("subscriptions of %s: %w", topic, err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("subscriptions of %s: %w", topic, err)
	}
	return ids, nil
}

// busy reports whether err is SQLite's SQLITE_BUSY (also in its extended forms).
func busy(err error) bool {
	var coded interface{ Code() int }
	return errors.As(err, &coded) && coded.Code()&0xff == 5
}
