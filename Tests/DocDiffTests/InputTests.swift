import Foundation
import XCTest
import ZIPFoundation
@testable import DocDiff

final class InputTests: XCTestCase {
    static let contentTypes = """
    <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
    <Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>
    """
    static let documentXML = """
    <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
    <w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>
    <w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs></w:pPr><w:r><w:t>1. Payment</w:t></w:r><w:r><w:tab/><w:t xml:space="preserve">within </w:t></w:r><w:r><w:t>30 days &amp; more</w:t></w:r></w:p>
    <w:p><w:r><w:t>Line one</w:t><w:br/><w:t>line two</w:t></w:r><w:del><w:r><w:delText>gone</w:delText></w:r></w:del></w:p>
    <w:p/>
    <w:p><w:r><w:t>Ünïcødé ✓</w:t></w:r></w:p>
    </w:body></w:document>
    """

    func makeDocx(_ entries: [(String, String)]) throws -> Data {
        let archive = try Archive(data: Data(), accessMode: .create)
        for (path, text) in entries {
            let data = Data(text.utf8)
            try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(data.count),
                                 compressionMethod: .deflate) { pos, size in
                data.subdata(in: Int(pos)..<(Int(pos) + size))
            }
        }
        return try XCTUnwrap(archive.data)
    }

    func testReadsRealDocx() throws {
        let data = try makeDocx([("[Content_Types].xml", Self.contentTypes), ("word/document.xml", Self.documentXML)])
        XCTAssertEqual(try DocxReader.paragraphs(from: data), ["1. Payment\twithin 30 days & more", "Line one\nline two", "", "Ünïcødé ✓"])
        let dir = try TempDir()
        let url = dir.url.appendingPathComponent("c.docx")
        try data.write(to: url)
        let doc = try TextDocument.load(path: url.path)
        XCTAssertEqual(doc.string, "1. Payment\twithin 30 days & more\nLine one\nline two\n\nÜnïcødé ✓\n")
        // And it can be compared with a text version.
        let r = DocDiff.diff(doc, TextDocument("1. Payment\twithin 60 days & more\nLine one\nline two\n\nÜnïcødé ✓\n"))
        XCTAssertEqual(r.changedTokenCount, 2)
    }

    func testBrokenDocxErrors() throws {
        XCTAssertThrowsError(try DocxReader.text(from: Data("not a zip at all".utf8))) {
            XCTAssertEqual($0 as? DocDiffError, .docxNotAZipArchive)
        }
        let noDoc = try makeDocx([("[Content_Types].xml", Self.contentTypes)])
        XCTAssertThrowsError(try DocxReader.text(from: noDoc)) {
            XCTAssertEqual($0 as? DocDiffError, .docxMissingDocumentXML)
        }
        let badXML = try makeDocx([("word/document.xml", "<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body><w:p>")])
        XCTAssertThrowsError(try DocxReader.text(from: badXML)) { e in
            guard case DocDiffError.docxMalformedXML(let detail) = e else { return XCTFail("\(e)") }
            XCTAssertFalse(detail.isEmpty)
        }
    }

    func testInvalidUTF8() {
        XCTAssertThrowsError(try TextDocument(validating: [0x61, 0x62, 0xC3, 0x28])) {
            XCTAssertEqual($0 as? DocDiffError, .invalidUTF8(offset: 2))
        }
        XCTAssertThrowsError(try TextDocument(validating: Array("abcdefghijkl".utf8) + [0xFF])) {
            XCTAssertEqual($0 as? DocDiffError, .invalidUTF8(offset: 12))
        }
        XCTAssertThrowsError(try TextDocument(validating: [0xED, 0xA0, 0x80])) { // surrogate
            XCTAssertEqual($0 as? DocDiffError, .invalidUTF8(offset: 0))
        }
        XCTAssertNoThrow(try TextDocument(validating: Array("héllo ✓ 𝄞".utf8)))
        XCTAssertThrowsError(try TextDocument.load(data: Data([0xFF]), format: .markdown)) {
            XCTAssertEqual($0 as? DocDiffError, .invalidUTF8(offset: 0))
        }
    }

    func testSizeLimitAndFormatInference() {
        XCTAssertThrowsError(try TextDocument.load(data: Data(count: 11), format: .plainText, limits: InputLimits(maximumBytes: 10))) {
            XCTAssertEqual($0 as? DocDiffError, .inputTooLarge(size: 11, limit: 10))
        }
        XCTAssertEqual(DocumentFormat.infer(fromPath: "x/Contract.DOCX"), .docx)
        XCTAssertEqual(DocumentFormat.infer(fromPath: "README.md"), .markdown)
        XCTAssertEqual(DocumentFormat.infer(fromPath: "a.txt"), .plainText)
    }

    /// The API is usable from worker threads concurrently.
    func testConcurrentUse() {
        let a = (0..<200).map { "line \($0 % 17)" }.joined(separator: "\n")
        let b = (0..<200).map { "line \(($0 * 7) % 19)" }.joined(separator: "\n")
        let expected = DocDiff.diff(a, b).changedTokenCount
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            XCTAssertEqual(DocDiff.diff(a, b).changedTokenCount, expected)
        }
    }
}
