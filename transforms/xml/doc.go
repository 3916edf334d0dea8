// Package xml holds the steps that read, build, convert and split XML payloads:
//
//   - xpath: copies values selected by XPath expressions into metadata or into a JSON payload;
//   - xml_to_json and json_to_xml: convert between XML and JSON by the convention below;
//   - xml_template: builds an XML payload from a template over metadata and the JSON payload;
//   - split: makes one message per element selected by XPath, or per item of a JSON array.
//
// Steps that read XML use the document the message already parsed (transforms.Message.XML), so a
// chain of XML steps parses the payload once.
//
// # XML and JSON
//
// xml_to_json and json_to_xml follow one convention, so that a document converted to JSON and back
// is the same document up to whitespace, attribute order and the order of differently named
// siblings:
//
//   - The root element becomes the single top-level key of a JSON object.
//   - An element becomes an object key named by its qualified name as written in the document:
//     "prefix:local" when prefixed, "local" otherwise. Namespace URIs are not spelled in keys.
//   - Attributes become keys "@name" ("@prefix:name" when prefixed). Namespace declarations are
//     kept as "@xmlns" and "@xmlns:prefix", so that the XML made back declares the same
//     namespaces.
//   - An element with only text becomes a JSON string; an empty element becomes "".
//   - An element with attributes or child elements keeps its text under "#text". Text that is only
//     whitespace (indentation between children) is dropped. In mixed content the text pieces are
//     joined into one "#text": where they stood between the children is not kept.
//   - Sibling elements with the same name become a JSON array in document order. The option
//     arrays names element paths (qualified names from the root joined by dots, for example
//     "Message.Body.Items.Item") that are arrays even when there is one element, so that the JSON
//     has the same shape, and passes the same schema, whatever the count.
//   - Every leaf value is a string: numbers and booleans are not guessed.
//   - Comments, processing instructions and the XML declaration are dropped. CDATA sections become
//     text.
//   - xml_to_json writes keys in document order: first the attributes, then "#text", then the
//     children, each name where its first element stood. json_to_xml writes elements in the order
//     of the keys in the JSON text; when the payload was last set as a decoded value (by a set
//     step, for example) that order is alphabetical.
//
// json_to_xml accepts any JSON in this shape. In addition, a number or a boolean becomes its text
// as written, a null leaves the element out, and the option root wraps a payload whose top level
// is an object of several keys (a typical REST body) in one root element.
package xml
