package records

import (
	"context"
	"strings"
	"testing"

	"github.com/aiskao/aiskao/transforms"
)

const peopleOpts = `
charset: windows-1251
delimiter: ";"
fields:
  - {name: egn, column: ЕГН}
  - {name: name, column: Име}
  - {name: born, column: Дата на раждане, type: date, layout: "02.01.2006"}
  - {name: amount, column: Сума, type: decimal, decimal_separator: ","}
  - {name: active, column: Активен, type: boolean, "true": да, "false": не}
`

// A windows-1251 CSV with a header, quoting and an empty number parses to typed records, and
// writing them gives the file back.
func TestCSVPeople(t *testing.T) {
	in := readFile(t, "testdata/people.csv")
	msgs, err := split(t, newStep(t, "csv", peopleOpts), in)
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"egn":"6008218094","name":"НИКОЛОВА ЮЛИЯ","born":"1960-08-21","amount":1841.88,"active":true},` +
		`{"egn":"6504245988","name":"ДИМИТРОВ ИВАН \"ВАНКО\"","born":"1965-04-24","amount":612.33,"active":false},` +
		`{"egn":"0245274416","name":"ЖЕЛЯЗКОВ; ХРИСТО","born":"2002-05-27","amount":null,"active":true}]`
	if got := payload(t, msgs[0]); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	m := msgs[0]
	if err := newStep(t, "csv", peopleOpts+"mode: write\n").Apply(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if got := payload(t, m); got != string(in) {
		t.Errorf("written:\n%q\nwant\n%q", got, in)
	}
}

func TestCSVCases(t *testing.T) {
	tests := []struct {
		name, opts, in, want, err string
	}{
		{name: "header only, all strings", opts: "{}", in: "a,b\n1, x \n", want: `[{"a":"1","b":"x"}]`},
		{name: "no header", opts: "header: false\nfields: [{name: n, type: integer}, {name: s}]", in: "007,q\n-1,\"r,s\"\n", want: `[{"n":7,"s":"q"},{"n":-1,"s":"r,s"}]`},
		{name: "comments and bom", opts: "comment: '#'", in: "\ufeffa\n# note\nx\n", want: `[{"a":"x"}]`},
		{name: "empty as null and omit", opts: "fields: [{name: a, empty: 'null'}, {name: b, empty: omit}, {name: c}]", in: "a,b,c\n,,\n", want: `[{"a":null,"c":""}]`},
		{name: "missing column", opts: "fields: [{name: x}]", in: "a\n1\n", err: `csv: header (line 1) has no column "x" (field x); it has a`},
		{name: "short row", opts: "{}", in: "a,b\n1\n", err: `record 1 (line 2), field b: 1 columns, want 2: the field is missing`},
		{name: "long row", opts: "{}", in: "a,b\n1,2,3\n", err: `record 1 (line 2): 3 columns, want 2`},
		{name: "bad number", opts: "fields: [{name: a, type: integer}]", in: "a\n1\n12x\n", err: `record 2 (line 3), field a, value "12x": not an integer`},
		{name: "too big", opts: "fields: [{name: a, type: integer}]", in: "a\n99999999999999999999\n", err: `not an integer`},
		{name: "bad byte", opts: "charset: windows-1251", in: "a,b\n\xc0,1\nx,\x98\n", err: "record 2 (line 3), field b, value \"\ufffd\": line 3: byte 0x98 at byte 3 of the line is not valid in windows-1251"},
		{name: "broken quotes", opts: "{}", in: "a\n\"x\"y\n", err: `csv: parse error on line 2, column 3: extraneous or missing " in quoted-field`},
		{name: "duplicate header", opts: "{}", in: "a,a\n", err: `columns 1 and 2 are both named "a"`},
		{name: "duplicate header read", opts: "fields: [{name: a}]", in: "a,,a,\n", err: `columns 1 and 3 are both named "a", and field a reads it`},
		{name: "duplicate header not read", opts: "fields: [{name: a}]", in: "a,,b,\n1,,,\n", want: `[{"a":"1"}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkParse(t, newStep(t, "csv", tt.opts), tt.in, tt.want, tt.err)
		})
	}
}

func TestCSVRejectPerRecord(t *testing.T) {
	msgs, err := split(t, newStep(t, "csv", "fields: [{name: a, type: integer}]\noutput: messages\nbad_records: reject"), []byte("a\n1\nx\n3\n"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range msgs {
		got = append(got, m.ID+" "+m.Metadata[MetaRecord]+" "+m.Metadata[MetaRecordError]+" "+payload(t, m))
	}
	want := []string{
		`file-1.1 1  {"a":1}`,
		`file-1.2 2 record 2 (line 3), field a, value "x": not an integer {"rejected_record":{"record":2,"line":3,"field":"a","value":"x","error":"not an integer","raw":"x"}}`,
		`file-1.3 3  {"a":3}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestCSVWrite(t *testing.T) {
	opts := "mode: write\nnewline: lf\nfields: [{name: a}, {name: n, type: decimal}, {name: d, type: date, layout: 02.01.2006}]\n"
	m := transforms.NewMessage("m", nil, []byte(`[{"a":" x","n":1.50,"d":"2024-02-29"},{"a":"q\"r"},{"a":"","n":"2"}]`))
	if err := newStep(t, "csv", opts).Apply(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	want := "a,n,d\n\" x\",1.50,29.02.2024\n\"q\"\"r\",,\n,2,\n"
	if got := payload(t, m); got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	err := newStep(t, "csv", opts).Apply(context.Background(), transforms.NewMessage("m", nil, []byte(`[{"d":"29.02.2024"}]`)))
	if err == nil || err.Error() != `csv: write: record 1, field d, value "29.02.2024": not a date YYYY-MM-DD` {
		t.Errorf("err = %v", err)
	}
	err = newStep(t, "csv", "mode: write\ncharset: cp866\nfields: [{name: a}]").Apply(context.Background(), transforms.NewMessage("m", nil, []byte(`{"a":"„x“"}`)))
	if err == nil || err.Error() != `csv: write: line 2: cp866 cannot hold '„' (U+201E)` {
		t.Errorf("err = %v", err)
	}
}

// A bad value of a personal field is not shown in the error, which is logged; the rejected
// record's payload keeps it.
func TestPersonalValueNotInError(t *testing.T) {
	opts := "fields: [{name: egn, type: integer, personal: true}]\nbad_records: reject\noutput: messages"
	msgs, err := split(t, newStep(t, "csv", opts), []byte("egn\n85062584x5\n"))
	if err != nil {
		t.Fatal(err)
	}
	e := msgs[0].Metadata[MetaRecordError]
	if e != "record 1 (line 2), field egn, value of 10 characters (personal data, not shown): not an integer" {
		t.Errorf("error = %s", e)
	}
	if p := payload(t, msgs[0]); !strings.Contains(p, `"value":"85062584x5"`) {
		t.Errorf("payload lacks the value: %s", p)
	}
	_, err = split(t, newStep(t, "csv", "fields: [{name: egn, type: integer, personal: true}]"), []byte("egn\n85062584x5\n"))
	if err == nil || strings.Contains(err.Error(), "8506") {
		t.Errorf("err = %v", err)
	}
}

// A long bad value is shown clipped in the error (which is logged), and whole in the payload.
func TestLongValueClipped(t *testing.T) {
	long := strings.Repeat("9", 5000) + "x"
	msgs, err := split(t, newStep(t, "csv", "fields: [{name: a, type: integer}]\nbad_records: reject"), []byte("a\n"+long+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	e := msgs[1].Metadata[MetaRecordError]
	if want := `value "` + strings.Repeat("9", 80) + `…": not an integer`; !strings.Contains(e, want) {
		t.Errorf("error = %.200s", e)
	}
	if !strings.Contains(payload(t, msgs[1]), long) {
		t.Error("the payload lacks the whole value")
	}
	if msgs[0].ID != "file-1" || payload(t, msgs[0]) != "[]" {
		t.Errorf("array message %s %s, want the file's own id and no records", msgs[0].ID, payload(t, msgs[0]))
	}
}
