import XCTest
import XMLGuard

final class XMLGuardTests: XCTestCase {
    private func refusal(_ text: String, _ limits: XMLGuard.Limits = XMLGuard.Limits()) -> XMLGuard.Refusal? {
        refusal(Array(text.utf8), limits)
    }

    private func refusal(_ bytes: [UInt8], _ limits: XMLGuard.Limits = XMLGuard.Limits()) -> XMLGuard.Refusal? {
        bytes.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> XMLGuard.Refusal? in
            do throws(XMLGuard.Refusal) { try XMLGuard.check(raw, limits: limits); return nil } catch { return error }
        }
    }

    private func attributes(_ count: Int, prefix: String = "a") -> String {
        (0..<count).map { " \(prefix)\($0)=\"v\"" }.joined()
    }

    func testAWordDocumentPasses() {
        let document = """
        <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
        <w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="urn:r">\
        <w:body><w:p><w:r><w:t xml:space="preserve">a &lt; b = "c" &gt; d</w:t></w:r></w:p><w:sectPr/></w:body></w:document>
        """
        XCTAssertNil(refusal(document))
        XCTAssertNil(refusal(""))
    }

    func testTooManyAttributesOnOneElementAreRefusedNotParsed() {
        XCTAssertNil(refusal("<e\(attributes(256))/>"))
        XCTAssertEqual(refusal("<e\(attributes(40_000))/>")?.reason, "an element has more than 256 attributes")
        // '=' and '>' inside quoted values are not attributes or ends of the tag.
        XCTAssertNil(refusal("<e a=\"" + String(repeating: "=>", count: 1_000) + "\" b='=\"='/>"))
    }

    func testNamespaceDeclarationsInScopeAreBoundedButRedeclaringOnSiblingsIsNot() {
        let declarations = attributes(200, prefix: "xmlns:p")
        // 200 on each of 1,000 siblings: never more than 200 in scope.
        XCTAssertNil(refusal("<root>" + String(repeating: "<e\(declarations)></e>", count: 1_000) + "<f\(declarations)/></root>"))
        // Nested: they add up.
        let nested = String(repeating: "<e\(declarations)>", count: 2) + String(repeating: "</e>", count: 2)
        XCTAssertEqual(refusal(nested)?.reason, "more than 256 namespace declarations in scope")
        XCTAssertNotNil(refusal("<e" + (0..<300).map { " xmlns:n\($0)='u\($0)'" }.joined() + " x='1'/>"))
        // `xmlns` alone counts; `xmlnsx` is a plain attribute.
        XCTAssertNotNil(refusal("<a xmlns='u'><b xmlns='v'/></a>", XMLGuard.Limits(namespacesInScope: 1)))
        XCTAssertNotNil(refusal("<a xmlns='u'><b xmlns='v'></b></a>", XMLGuard.Limits(namespacesInScope: 1)))
        XCTAssertNil(refusal("<a xmlnsx='u'><b xmlnsy='v'></b></a>", XMLGuard.Limits(namespacesInScope: 1)))
    }

    func testDepthDoctypeAndEncoding() {
        XCTAssertNil(refusal(String(repeating: "<x>", count: 200) + String(repeating: "</x>", count: 200), XMLGuard.Limits(depth: 200)))
        XCTAssertEqual(refusal(String(repeating: "<x>", count: 201), XMLGuard.Limits(depth: 200))?.reason, "elements nest deeper than 200")
        XCTAssertEqual(refusal("<?xml version=\"1.0\"?>\n<!DOCTYPE x [<!ENTITY a \"b\">]><x/>")?.reason, "a DOCTYPE is refused")
        XCTAssertEqual(refusal("<?xml version=\"1.0\"?>\n<!DOCTYPE x><x/>")?.line, 2)
        // A DOCTYPE inside a comment or CDATA is text.
        XCTAssertNil(refusal("<x><!-- <!DOCTYPE y> --><![CDATA[<!DOCTYPE z> <a b=c>]]></x>"))
        XCTAssertTrue(refusal("<?xml version='1.0' encoding='UTF-7'?><x/>")?.reason.contains("the encoding 'utf-7' is refused") ?? false)
        XCTAssertNotNil(refusal("<?xml version=\"1.0\" encoding=\"IBM930\"?><x/>"))
        XCTAssertNil(refusal("<?xml version=\"1.0\" encoding=\"utf-8\"?><x/>"))
        XCTAssertNil(refusal("<?xml version=\"1.0\" encoding = 'ISO-8859-1' standalone='yes'?><x/>"))
    }

    func testUTF16IsScannedByCodeUnit() {
        func utf16(_ text: String, bigEndian: Bool) -> [UInt8] {
            var bytes: [UInt8] = bigEndian ? [0xFE, 0xFF] : [0xFF, 0xFE]
            for unit in text.utf16 {
                let (high, low) = (UInt8(unit >> 8), UInt8(unit & 0xFF))
                bytes += bigEndian ? [high, low] : [low, high]
            }
            return bytes
        }
        for bigEndian in [true, false] {
            XCTAssertNil(refusal(utf16("<?xml version=\"1.0\" encoding=\"UTF-16\"?><x a='é'/>", bigEndian: bigEndian)))
            XCTAssertEqual(refusal(utf16("<e\(attributes(300))/>", bigEndian: bigEndian))?.reason, "an element has more than 256 attributes")
        }
    }
}
