package embedded

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/internal/jsonenc"
)

// partSize is the most payload one row holds. A larger payload is written as its first part in
// the message's row and the rest in rows of transport_parts: SQLite's driver copies a bound
// value into memory of its own, and SQLite builds the whole row once more before writing it,
// so a 50 MB document written whole cost two more copies of it at once.
const partSize = 1 << 20

// publishReq is one Publish call waiting for its commit.
type publishReq struct {
	topic string
	rows  []row
	done  chan error // receives the commit's result, once
}

// row is a message encoded for its table row; payload is the caller's slice, not a copy.
type row struct {
	seq      int64 // given by the commit
	uuid     string
	metadata []byte
	meta     message.Metadata // a copy of the caller's, for the subscriptions of this process
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
		req.rows[i] = row{uuid: m.UUID, metadata: meta, meta: maps.Clone(m.Metadata), payload: payload}
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
	if err == nil && len(batch) > 0 {
		t.handOff(batch)
	}
	for _, r := range batch {
		r.done <- err
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
		ins := tx.StmtContext(ctx, t.st.insertMessage)
		var insPart *sql.Stmt // taken on the transaction at the first message in parts
		var first, last int64
		for _, r := range batch {
			for i, m := range r.rows {
				head, rest := m.payload, []byte(nil)
				if len(head) > partSize {
					head, rest = head[:partSize], head[partSize:]
				}
				parts := (len(rest) + partSize - 1) / partSize
				res, err := ins.ExecContext(ctx, r.topic, m.uuid, m.metadata, head, parts)
				if err != nil {
					return fmt.Errorf("insert message %s: %w", m.uuid, err)
				}
				if last, err = res.LastInsertId(); err != nil {
					return fmt.Errorf("insert message %s: %w", m.uuid, err)
				}
				r.rows[i].seq = last
				if len(rest) > 0 && insPart == nil {
					insPart = tx.StmtContext(ctx, t.st.insertPart)
				}
				for n := 1; len(rest) > 0; n++ {
					part := rest[:min(partSize, len(rest))]
					rest = rest[len(part):]
					if _, err := insPart.ExecContext(ctx, last, n, part); err != nil {
						return fmt.Errorf("insert message %s, part %d: %w", m.uuid, n, err)
					}
				}
				if first == 0 {
					first = last
				}
			}
		}
		// One statement for the pending rows of the whole batch, every topic and group.
		if _, err := in(ctx, tx.Tx, t.st.insertPending, first, last); err != nil {
			return fmt.Errorf("insert pending rows: %w", err)
		}
	}
	if len(acks) > 0 {
		if err := t.deleteAcks(ctx, tx.Tx, acks); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	t.commits.Add(1)
	return nil
}

// deleteAcks deletes the pending rows of acks, one statement per subscription, then the messages
// that no group waits for any more, in one statement.
func (t *Transport) deleteAcks(ctx context.Context, tx *sql.Tx, acks []ackRef) error {
	slices.SortFunc(acks, func(a, b ackRef) int {
		if c := cmp.Compare(a.sub, b.sub); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	seqs := make([]int64, 0, len(acks))
	var list []byte
	for i := 0; i < len(acks); {
		j := i
		seqs = seqs[:0]
		for ; j < len(acks) && acks[j].sub == acks[i].sub; j++ {
			seqs = append(seqs, acks[j].seq)
		}
		list = seqList(list[:0], seqs)
		if _, err := in(ctx, tx, t.st.ackPending, acks[i].sub, string(list)); err != nil {
			return fmt.Errorf("acknowledge: %w", err)
		}
		i = j
	}
	seqs = seqs[:0]
	for _, a := range acks {
		seqs = append(seqs, a.seq)
	}
	list = seqList(list[:0], seqs)
	if _, err := in(ctx, tx, t.st.deleteAcked, string(list)); err != nil {
		return fmt.Errorf("delete acknowledged messages: %w", err)
	}
	if _, err := in(ctx, tx, t.st.deleteParts, string(list)); err != nil {
		return fmt.Errorf("delete acknowledged messages' parts: %w", err)
	}
	return nil
}

// busy reports whether err is SQLite's SQLITE_BUSY (also in its extended forms).
func busy(err error) bool {
	var coded interface{ Code() int }
	return errors.As(err, &coded) && coded.Code()&0xff == 5
}
