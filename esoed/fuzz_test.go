package esoed

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseHeader: whatever arrives, the header reader returns a summary or an error; it never
// panics and never hangs. Seeded with the samples and shapes an attacker would try.
//
//	go test -run '^$' -fuzz FuzzParseHeader -fuzztime 60s ./esoed/
func FuzzParseHeader(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "esoed", "*.xml"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`<?xml version="1.0"?><!DOCTYPE Message [<!ENTITY x "x">]><Message xmlns="http://schemas.egov.bg/messaging/v1">&x;</Message>`))
	f.Add([]byte(strings.Repeat("<a>", 10000)))
	f.Add([]byte(`<Message xmlns="http://schemas.egov.bg/messaging/v1"><Header><MessageGUID>{x}</MessageGUID></Header></Message>`))
	f.Add([]byte{0xff, 0xfe, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseHeader(bytes.NewReader(data))
		if err == nil && s == nil {
			t.Fatal("no summary and no error")
		}
	})
}
