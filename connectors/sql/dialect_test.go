package sqlconn

import (
	"errors"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/aiskao/aiskao/fault"
)

func TestClassifyMasksPersonalNumbers(t *testing.T) {
	err := classify(&mysql.MySQLError{Number: 1062, SQLState: [5]byte{'2', '3', '0', '0', '0'}, Message: "Duplicate entry '8001010000' for key 'PRIMARY'; phone 02123456789"})
	if !fault.IsPermanent(err) {
		t.Errorf("duplicate entry: %v; want permanent", err)
	}
	want := "Error 1062 (23000): Duplicate entry '******0000' for key 'PRIMARY'; phone 02123456789"
	if err.Error() != want {
		t.Errorf("got  %s\nwant %s", err, want)
	}
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1062 {
		t.Error("the database's error is not reachable with errors.As")
	}
	if classify(errors.New("connection refused")) == nil || fault.IsPermanent(classify(errors.New("connection refused"))) {
		t.Error("a connection error must stay retryable")
	}
}
