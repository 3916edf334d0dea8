// Package all registers every family of steps; the binary imports it once.
package all

import (
	_ "github.com/aiskao/aiskao/transforms/enrich"    // enrich
	_ "github.com/aiskao/aiskao/transforms/esoedstep" // esoed_status
	_ "github.com/aiskao/aiskao/transforms/mapping"   // set, filter, log
	_ "github.com/aiskao/aiskao/transforms/records"   // csv, fixed_width, record_reject (and charset)
	_ "github.com/aiskao/aiskao/transforms/schema"    // json_schema
	_ "github.com/aiskao/aiskao/transforms/xml"       // xpath, xml_to_json, json_to_xml, xml_template, split
	_ "github.com/aiskao/aiskao/transforms/xsdstep"   // xsd
)
