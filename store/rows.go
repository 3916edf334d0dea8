package store

import "fmt"

// Rows is a result set read row by row, as database/sql and pgx both give one.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// Row is one result row, or a Rows at its current row.
type Row interface {
	Scan(dest ...any) error
}

// ScanRows reads every row of rows with scan, in order, and stops at the first error, of scan or
// of the result set. It does not close rows.
func ScanRows[T any](rows Rows, scan func(Row) (T, error)) ([]T, error) {
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// ReadChainRows hands every row of a journal chain, read from rows by scan, to row, in order.
// Errors of scan and of the result set are wrapped as reading the chain; row's own error is
// returned as it is. It does not close rows.
func ReadChainRows(rows Rows, scan func(Row) (ChainRow, error), row func(ChainRow) error) error {
	for rows.Next() {
		r, err := scan(rows)
		if err != nil {
			return fmt.Errorf("read journal chain: %w", err)
		}
		if err := row(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read journal chain: %w", err)
	}
	return nil
}
