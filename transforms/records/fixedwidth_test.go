package records

import (
	"bytes"
	"context"
	"flag"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aiskao/aiskao/transforms"
)

var update = flag.Bool("update", false, "write the golden files again")

func layout(tb testing.TB, extra string) string {
	return string(readFile(tb, "testdata/tax-register.yaml")) + extra
}

// The windows-1251 register export parses to UTF-8 JSON records (golden file), and writing
// those records again gives the file back byte for byte.
func TestGoldenTaxRegister(t *testing.T) {
	in := readFile(t, "testdata/tax-register.txt")
	parse := newStep(t, "fixed_width", layout(t, ""))
	msgs, err := split(t, parse, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 {
		t.Fatalf("messages = %d, want 1 (the array)", len(msgs))
	}
	got := payload(t, msgs[0])
	var pretty bytes.Buffer
	pretty.WriteString(strings.ReplaceAll(strings.ReplaceAll(got, "},{", "},\n{"), "[{", "[\n{"))
	pretty.WriteString("\n")
	if *update {
		if err := os.WriteFile("testdata/tax-register.json", pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want := readFile(t, "testdata/tax-register.json")
	if pretty.String() != string(want) {
		t.Errorf("parsed records differ from testdata/tax-register.json:\n%s", pretty.String())
	}
	for _, s := range []string{`"name":"НИКОЛОВА ЮЛИЯ ДИМИТЪРОВА"`, `"birth_date":"1960-08-21"`, `"address":"гр. Примерно, ул. „Цар Симеон“ 76"`, `"tax_base":51411.32`, `"tax_due":1841.88`, `"paid":true`, `"installments":3`, `"note":null`} {
		if !strings.Contains(got, s) {
			t.Errorf("first record lacks %s", s)
		}
	}

	write := newStep(t, "fixed_width", layout(t, "mode: write\n"))
	m := msgs[0]
	if err := write.Apply(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if out := payload(t, m); out != string(in) {
		t.Errorf("written file differs from the input:\n%q\nwant\n%q", firstDiff(out, string(in)), firstDiff(string(in), out))
	}
	if ct := m.Metadata["datacontenttype"]; ct != "text/plain; charset=windows-1251" {
		t.Errorf("content type = %q", ct)
	}
}

func firstDiff(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return a[max(0, i-20):min(len(a), i+40)]
}

// Each bad record is named by number, field and value; with reject the good ones go on.
func TestBadRecords(t *testing.T) {
	in := readFile(t, "testdata/tax-register-bad.txt")
	wantErrs := []string{
		`record 3 (line 3), field address, value "гр. Примерно, ул. „`, `": short record: 100 characters, the fields need 166`,
		`record 5 (line 5), field tax_base, value "0000456A8,90": not a decimal number (separator ",")`,
		`record 9 (line 9), field birth_date, value "31.02.1980": not a date in the layout 02.01.2006`,
		`record 12 (line 12), field address, value "гр. Пример\ufffdо, ул. „Васил Левски“ 4                ": byte 0x98 at byte 81 of the record is not valid in windows-1251`,
	}

	t.Run("fail", func(t *testing.T) {
		_, err := split(t, newStep(t, "fixed_width", layout(t, "")), in)
		if err == nil {
			t.Fatal("a file with bad records parsed")
		}
		for _, w := range wantErrs {
			if w = strings.ReplaceAll(w, `\ufffd`, "\ufffd"); !strings.Contains(err.Error(), w) {
				t.Errorf("error lacks %q:\n%v", w, err)
			}
		}
		if !strings.HasPrefix(err.Error(), "fixed_width: 4 bad record(s): record 3 ") {
			t.Errorf("error = %v", err)
		}
	})

	t.Run("reject", func(t *testing.T) {
		for _, output := range []string{"array", "messages"} {
			msgs, err := split(t, newStep(t, "fixed_width", layout(t, "bad_records: reject\noutput: "+output+"\n")), in)
			if err != nil {
				t.Fatal(err)
			}
			var rejected []*transforms.Message
			good := 0
			for _, m := range msgs {
				if m.Metadata[MetaRecordError] != "" {
					rejected = append(rejected, m)
				} else {
					good++
				}
			}
			wantGood := 20
			if output == "array" {
				wantGood = 1
				if n := strings.Count(payload(t, msgs[0]), `"partida"`); n != 20 {
					t.Errorf("array holds %d records, want 20", n)
				}
			}
			if good != wantGood || len(rejected) != 4 {
				t.Fatalf("%s: good %d, rejected %d; want %d and 4", output, good, len(rejected), wantGood)
			}
			for i, num := range []string{"3", "5", "9", "12"} {
				m := rejected[i]
				if m.Metadata[MetaRecord] != num {
					t.Errorf("rejected %d: record %q, want %s", i, m.Metadata[MetaRecord], num)
				}
				reason, err := rejection(transforms.NewMessage("x", nil, []byte(payload(t, m))))
				if err != nil || reason != m.Metadata[MetaRecordError] {
					t.Errorf("payload says %q (%v), metadata %q", reason, err, m.Metadata[MetaRecordError])
				}
				if rs := newRejectStep(t); rs.Apply(context.Background(), m) == nil {
					t.Errorf("record_reject let rejected record %s pass", num)
				}
			}
			if !strings.Contains(rejected[3].Metadata[MetaRecordError], "value \"\ufffd") && !strings.Contains(rejected[3].Metadata[MetaRecordError], "\ufffd") {
				t.Errorf("the bad byte is not shown in the value: %s", rejected[3].Metadata[MetaRecordError])
			}
		}
	})
}

func newRejectStep(t *testing.T) transforms.Step { return newStep(t, "record_reject", "{}") }

func TestRejectPassesGoodRecords(t *testing.T) {
	m := transforms.NewMessage("a", nil, []byte(`{"partida":"1"}`))
	if err := newRejectStep(t).Apply(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	m = transforms.NewMessage("b", nil, []byte(`{"rejected_record":{"record":4,"line":4,"field":"x","value":"y","error":"not a date","raw":"r"}}`))
	err := newRejectStep(t).Apply(context.Background(), m)
	if err == nil || err.Error() != `rejected record 4 (line 4), field x, value "y": not a date` {
		t.Fatalf("err = %v", err)
	}
}

func TestFixedWidthCases(t *testing.T) {
	base := "fields:\n  - {name: id, start: 1, length: 4, type: integer, pad: '0'}\n  - {name: name, start: 6, length: 6}\n  - {name: amount, start: 12, length: 7, type: decimal, pad: '0'}\n"
	tests := []struct {
		name, opts, in, want, err string
	}{
		{name: "lf and crlf, last line without end", in: "0001 Анна  0012.50\r\n0002 Б     0000.00\n-003              \n", want: `[{"id":1,"name":"Анна","amount":12.50},{"id":2,"name":"Б","amount":0.00},{"id":-3,"name":"","amount":null}]`},
		{name: "zero is 0", in: "0000 x     0000000", want: `[{"id":0,"name":"x","amount":0}]`},
		{name: "long record", in: "0001 Анна  0012.50xx\n", err: `record 1 (line 1), value "xx": long record: 20 characters, the fields cover 18`},
		{name: "utf-8 bom", opts: "charset: utf-8\n", in: "\ufeff0001 Анна  0012.50\n", want: `[{"id":1,"name":"Анна","amount":12.50}]`},
		{name: "invalid utf-8", in: "0001 А\xffна  0012.50\n", err: `field name, value "А\ufffdна  ": byte 0xFF at byte 8 of the record is not valid in utf-8`},
		{name: "record length", opts: "record_length: 18\n", in: "0001 Anna  0012.500002 B     0000.01", want: `[{"id":1,"name":"Anna","amount":12.50},{"id":2,"name":"B","amount":0.01}]`},
		{name: "record length, short last", opts: "record_length: 18\n", in: "0001 Anna  0012.500002", err: "record 2, field name"},
		{name: "omit", opts: "fields:\n  - {name: a, start: 1, length: 2, empty: omit}\n  - {name: b, start: 3, length: 2, empty: 'null'}\n", in: "    \n", want: `[{"b":null}]`},
		{name: "max records", opts: "max_records: 1\n", in: "0001 Анна  0012.50\n0001 Анна  0012.50\n", err: "more than 1 records"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := base + tt.opts
			if strings.HasPrefix(tt.opts, "fields:") {
				opts = tt.opts
			}
			checkParse(t, newStep(t, "fixed_width", opts), tt.in, tt.want, strings.ReplaceAll(tt.err, `\ufffd`, "\ufffd"))
		})
	}
}

func TestFixedWidthWriteErrors(t *testing.T) {
	opts := "mode: write\ncharset: windows-1251\nfields:\n  - {name: name, start: 1, length: 5}\n  - {name: n, start: 6, length: 3, type: integer}\n"
	tests := []struct{ in, err string }{
		{`[{"name":"Ива","n":1},{"name":"Анна-Мария"}]`, `record 2, field name, value "Анна-Мария": longer than the field's 5 characters`},
		{`[{"name":"Ѝ","n":1}]`, `record 1, field name: windows-1251 cannot hold 'Ѝ' (U+040D)`},
		{`[{"name":"a","n":"x"}]`, `record 1, field n, value "x": not an integer`},
		{`[{"name":"a","n":1234}]`, `record 1, field n, value "1234": longer than the field's 3 characters`},
		{`[{"name":"a\nb"}]`, `holds a line end`},
		{`"x"`, `neither a JSON object nor an array`},
	}
	for _, tt := range tests {
		err := newStep(t, "fixed_width", opts).Apply(context.Background(), transforms.NewMessage("m", nil, []byte(tt.in)))
		if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%s: err = %v, want %s", tt.in, err, tt.err)
		}
	}
}

// A file of one long line of bytes that do not decode is handled in time linear in its size
// (showing a bad record once took a pass over the rest of the record per bad byte).
func TestLongBadLineIsLinear(t *testing.T) {
	data := bytes.Repeat([]byte{0xFF}, 4<<20)
	start := time.Now()
	_, err := split(t, newStep(t, "fixed_width", "fields: [{name: a, start: 1, length: 5}]"), data)
	if err == nil || !strings.Contains(err.Error(), "byte 0xFF at byte 1 of the record is not valid in utf-8") {
		t.Fatalf("err = %.300v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestFailNamesCountOfAll(t *testing.T) {
	in := strings.Repeat("x\n", 25)
	_, err := split(t, newStep(t, "fixed_width", "fields: [{name: a, start: 1, length: 2}]"), []byte(in))
	if err == nil || !strings.HasPrefix(err.Error(), "fixed_width: 25 bad record(s): record 1 (line 1), field a, value \"x\": short record") || !strings.HasSuffix(err.Error(), "; and 5 more") {
		t.Fatalf("err = %v", err)
	}
}
