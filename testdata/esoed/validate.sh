#!/bin/sh
# Validates ЕСОЕД (СЕОС) messages against EGovMessaging.xsd with xmllint.
#
# EGovMessaging.xsd imports the XML-DSig and РИО schemas without
# schemaLocation, so xmllint cannot find them on its own. This script copies
# the schema folder to a temporary directory and adds a wrapper schema that
# imports every namespace with an explicit schemaLocation, dependencies first;
# the imports without a location inside the copied schemas then resolve to
# namespaces that are already loaded.
#
# Usage: validate.sh SCHEMA_DIR FILE.xml...
#   SCHEMA_DIR holds EGovMessaging.xsd, xmldsig-core-schema.xsd and the
#   0008-*/0009-* РИО schemas of the СЕОС technical specification v1.1.
set -eu

if [ "$#" -lt 2 ]; then
	echo "usage: $0 SCHEMA_DIR FILE.xml..." >&2
	exit 2
fi
schemas=$1
shift

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$schemas"/*.xsd "$tmp"/

cat >"$tmp/wrapper.xsd" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema">
  <xsd:import namespace="http://www.w3.org/2000/09/xmldsig#" schemaLocation="xmldsig-core-schema.xsd"/>
  <xsd:import namespace="http://ereg.egov.bg/value/0008-000001" schemaLocation="0008-000001_BatchNumber.xsd"/>
  <xsd:import namespace="http://ereg.egov.bg/value/0008-000002" schemaLocation="0008-000002_RegisterIndex.xsd"/>
  <xsd:import namespace="http://ereg.egov.bg/value/0008-000003" schemaLocation="0008-000003_DocumentSequenceNumber.xsd"/>
  <xsd:import namespace="http://ereg.egov.bg/value/0008-000004" schemaLocation="0008-000004_DocumentReceiptOrSigningDate.xsd"/>
  <xsd:import namespace="http://ereg.egov.bg/segment/0009-000001" schemaLocation="0009-000001_DocumentURI.xsd"/>
  <xsd:import namespace="http://schemas.egov.bg/messaging/v1" schemaLocation="EGovMessaging.xsd"/>
</xsd:schema>
EOF

xmllint --noout --nonet --schema "$tmp/wrapper.xsd" "$@"
