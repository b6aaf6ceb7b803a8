import Foundation
import XCTest
@testable import DocDiff

/// Uploads that crashed, hung or leaked an earlier reader (found by the `docx` fuzz harness,
/// minimised, also in Fuzz/regressions/docx), and the limits of the libzip + libxml2 reader.
final class DocxHostileInputTests: XCTestCase {
    static let word = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"

    static func regression(_ name: String) throws -> Data {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Fuzz/regressions/docx/\(name)").standardized
        return try Data(contentsOf: url)
    }

    /// A stored `word/document.xml` holding `xml`.
    static func docx(_ xml: String) -> Data {
        Data(RawZip(entries: [.init(name: "word/document.xml", data: Array(xml.utf8))]).bytes)
    }

    /// 130 bytes whose central directory starts past the end of the data: ZIPFoundation's
    /// in-memory archive trapped reading there, killing the process.
    func testACentralDirectoryPastTheEndIsRefusedNotACrash() throws {
        XCTAssertThrowsError(try DocxReader.paragraphs(from: try Self.regression("crash-central-directory-past-end"))) {
            XCTAssertEqual($0 as? DocDiffError, .docxNotAZipArchive)
        }
    }

    /// One newline, and nothing: no end record. ZIPFoundation leaked its copy of the upload here.
    func testBytesWithoutAnEndRecordAreNotAZip() {
        XCTAssertThrowsError(try DocxReader.paragraphs(from: Data([0x0A]))) { XCTAssertEqual($0 as? DocDiffError, .docxNotAZipArchive) }
        XCTAssertThrowsError(try DocxReader.paragraphs(from: Data())) { XCTAssertEqual($0 as? DocDiffError, .docxNotAZipArchive) }
    }

    /// 220 bytes: an element name with a byte that is not UTF-8 (`<w\xC1document`) crashed
    /// FoundationXML's XMLParser (the process died). Its local header names the entry
    /// differently from its central directory, which libzip's consistency check refuses.
    func testTheFoundationXMLCrashInputIsRefused() throws {
        let input = try Self.regression("crash-foundationxml-start-element")
        XCTAssertEqual(input.count, 220)
        XCTAssertThrowsError(try DocxReader.paragraphs(from: input)) { XCTAssertEqual($0 as? DocDiffError, .docxNotAZipArchive) }
        // The same XML in a consistent archive reaches libxml2, which says what is wrong and where.
        let xml = input[0x2F..<0x87]
        XCTAssertEqual(xml.count, 0x58)
        XCTAssertThrowsError(try DocxReader.paragraphs(from: Data(RawZip(entries: [.init(name: "word/document.xml", data: Array(xml))]).bytes))) { error in
            guard case DocDiffError.docxMalformedXML(let detail) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("line 1"), detail)
        }
    }

    /// 529 bytes: a deflate stream that is unfinished when its entry's compressed bytes end.
    /// ZIPFoundation asked for more input forever (a thread at 100% CPU); libzip stops.
    func testADeflateStreamLongerThanItsEntryIsRefusedNotAHang() throws {
        let input = try Self.regression("hang-inflate-needs-more-input")
        XCTAssertEqual(input.count, 529)
        XCTAssertThrowsError(try DocxReader.paragraphs(from: input)) { XCTAssertNotNil($0 as? DocDiffError, "\($0)") }
    }

    func testADoctypeIsRefusedAndEntitiesAreNotExpanded() {
        let laughs = """
        <?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>\
        <w:document xmlns:w="\(Self.word)"><w:body><w:p><w:r><w:t>&b;</w:t></w:r></w:p></w:body></w:document>
        """
        XCTAssertThrowsError(try DocxReader.paragraphs(from: Self.docx(laughs))) { error in
            guard case DocDiffError.docxMalformedXML(let detail) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("DOCTYPE"), detail)
        }
        let external = """
        <?xml version="1.0"?><!DOCTYPE w:document SYSTEM "http://127.0.0.1:1/x.dtd"><w:document xmlns:w="\(Self.word)"/>
        """
        XCTAssertThrowsError(try DocxReader.paragraphs(from: Self.docx(external))) { error in
            guard case DocDiffError.docxMalformedXML(let detail) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("DOCTYPE"), detail)
        }
    }

    func testNestingIsBounded() throws {
        let deep = String(repeating: "<w:x>", count: 300) + String(repeating: "</w:x>", count: 300)
        XCTAssertThrowsError(try DocxReader.paragraphs(from: Self.docx("<w:document xmlns:w=\"\(Self.word)\">\(deep)</w:document>"))) { error in
            guard case DocDiffError.docxMalformedXML(let detail) = error else { return XCTFail("\(error)") }
            // The pre-scan (XMLGuard) refuses before libxml2 parses: the root and 200 levels below it.
            XCTAssertTrue(detail.contains("nest deeper than 201"), detail)
        }
        let shallow = String(repeating: "<w:x>", count: 200) + String(repeating: "</w:x>", count: 200)
        XCTAssertEqual(try DocxReader.paragraphs(from: Self.docx("<w:document xmlns:w=\"\(Self.word)\">\(shallow)</w:document>")), [])
    }

    func testManyAttributesOrNamespacesAreRefusedBeforeLibxml2ParsesThem() {
        // libxml2 2.9 compares each attribute with every earlier one: 40,000 took seconds, and the
        // input limit would allow hours. The pre-scan refuses in one linear pass.
        let attributes = (0..<40_000).map { " a\($0)=\"v\"" }.joined()
        XCTAssertThrowsError(try DocxReader.paragraphs(from: Self.docx("<w:document xmlns:w=\"\(Self.word)\"><w:p\(attributes)/></w:document>"))) { error in
            guard case DocDiffError.docxMalformedXML(let detail) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("more than 256 attributes"), detail)
        }
        let namespaces = (0..<200).map { " xmlns:n\($0)=\"urn:\($0)\"" }.joined()
        XCTAssertThrowsError(try DocxReader.paragraphs(from: Self.docx("<w:document xmlns:w=\"\(Self.word)\"><w:body\(namespaces)><w:p\(namespaces)/></w:body></w:document>"))) { error in
            guard case DocDiffError.docxMalformedXML(let detail) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("namespace declarations in scope"), detail)
        }
        XCTAssertThrowsError(try DocxReader.paragraphs(from: Self.docx("<?xml version=\"1.0\" encoding=\"UTF-7\"?><w:document xmlns:w=\"\(Self.word)\"/>"))) { error in
            guard case DocDiffError.docxMalformedXML(let detail) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("encoding 'utf-7' is refused"), detail)
        }
    }

    func testMalformedXMLNamesTheLine() {
        XCTAssertThrowsError(try DocxReader.paragraphs(from: Self.docx("<w:document xmlns:w=\"\(Self.word)\">\n<w:p>\n</w:x></w:document>"))) { error in
            guard case DocDiffError.docxMalformedXML(let detail) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("line 3"), detail)
        }
        XCTAssertThrowsError(try DocxReader.paragraphs(from: Self.docx("<x/>"))) {
            XCTAssertEqual($0 as? DocDiffError, .docxMalformedXML(detail: "no w:document root element"))
        }
    }

    func testOnlyStoredAndDeflatedEntriesAreRead() {
        let xml = Array("<w:document xmlns:w=\"\(Self.word)\"/>".utf8)
        let bzip2 = Data(RawZip(entries: [.init(name: "word/document.xml", data: xml, method: 12)]).bytes)
        XCTAssertThrowsError(try DocxReader.paragraphs(from: bzip2)) { error in
            guard case DocDiffError.docxRefused(let detail) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("method 12"), detail)
        }
    }

    func testDeclaredSizesAreChecked() {
        let xml = Array("<w:document xmlns:w=\"\(Self.word)\"><w:body/></w:document>".utf8)
        // Declares 10 MB from a few stored bytes: past the limit, refused before reading.
        let big = Data(RawZip(entries: [.init(name: "word/document.xml", data: xml, declaredSize: 10 << 20)]).bytes)
        XCTAssertThrowsError(try DocxReader.paragraphs(from: big, maximumXMLBytes: 1 << 20)) { XCTAssertEqual($0 as? DocDiffError, .docxTooLarge(limit: 1 << 20)) }
        // Within the limit, but a stored entry cannot be larger than its bytes.
        XCTAssertThrowsError(try DocxReader.paragraphs(from: big, maximumXMLBytes: 64 << 20)) { XCTAssertNotNil($0 as? DocDiffError, "\($0)") }
        // Declares fewer bytes than it holds.
        let short = Data(RawZip(entries: [.init(name: "word/document.xml", data: xml, declaredSize: 5)]).bytes)
        XCTAssertThrowsError(try DocxReader.paragraphs(from: short)) { XCTAssertNotNil($0 as? DocDiffError, "\($0)") }
    }

    func testTooManyEntriesAreRefused() {
        var zip = RawZip()
        for i in 0...DocxArchive.maximumEntries { zip.entries.append(.init(name: "e\(i)", data: [])) }
        XCTAssertThrowsError(try DocxReader.paragraphs(from: Data(zip.bytes))) { error in
            guard case DocDiffError.docxRefused(let detail) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("10001 entries"), detail)
        }
    }

    func testTheRawZipBuilderMakesWhatTheReaderReads() throws {
        let xml = "<w:document xmlns:w=\"\(Self.word)\"><w:body><w:p><w:r><w:t>a</w:t><w:t/></w:r></w:p><w:p/></w:body></w:document>"
        XCTAssertEqual(try DocxReader.paragraphs(from: Self.docx(xml)), ["a", ""])
    }
}
