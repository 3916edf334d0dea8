package regixtest

import (
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// InvalidSample is a bundled sample that breaks its own schema as published.
type InvalidSample struct {
	// File is the sample under the registers folder, e.g. "property-reg/PropertySearchResponse.xml".
	File string
	// Path and Line name the element at fault and its line, as the validator reports them.
	Path string
	Line int
	// Rule is the rule broken, as the validator names it.
	Rule string
}

// PublishedInvalid lists the bundled samples that break their own schema:
// three responses of the property register are encoded in windows-1251
// without an XML declaration saying so, which makes them ill-formed XML
// (not UTF-8); the first bad byte is in the first RegistryAgency.
func PublishedInvalid() []InvalidSample {
	const notUTF8 = "syntax"
	return []InvalidSample{
		{"property-reg/GetEntityInfoResponse.xml", "/EntityInfoResponse/EntityLotDataList/EntityLotData/RegistryAgency", 1, notUTF8},
		{"property-reg/GetPersonInfoResponse.xml", "/PersonInfoResponse/PersonLotDataList/PersonLotData/RegistryAgency", 1, notUTF8},
		{"property-reg/PropertySearchResponse.xml", "/PropertySearchResponse/PropertyDetailList/PropertyDetail/RegistryAgency", 1, notUTF8},
	}
}

// IsPublishedInvalid reports whether file (any path ending in a register
// folder and a sample's name, such as "registers/property-reg/X.xml") is a
// sample of PublishedInvalid.
func IsPublishedInvalid(file string) bool {
	file = filepath.ToSlash(file)
	for _, s := range PublishedInvalid() {
		if file == s.File || strings.HasSuffix(file, "/"+s.File) {
			return true
		}
	}
	return false
}

// Served returns the response document a stand-in register answers with for
// the bundled sample file: the simulator's corrected copy of a sample of
// PublishedInvalid, else doc as it is.
func Served(t testing.TB, file string, doc []byte) []byte {
	t.Helper()
	if !IsPublishedInvalid(file) {
		return doc
	}
	file = filepath.ToSlash(file)
	name := path.Join(path.Base(path.Dir(file)), path.Base(file))
	b, err := os.ReadFile(filepath.Join(CorrectedDir(t), filepath.FromSlash(name)))
	if err != nil {
		t.Fatalf("corrected copy of %s: %v", file, err)
	}
	return b
}

// CorrectedDir is the folder of the simulator's corrected copies of the
// samples of PublishedInvalid.
func CorrectedDir(t testing.TB) string {
	t.Helper()
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("regixtest: cannot locate the module")
	}
	return filepath.Join(filepath.Dir(self), "..", "..", "connectors", "regix", "regixsim", "corrected")
}
