import Foundation
import XCTest
import ZIPFoundation
@testable import DocDiff

/// Bounded .docx inflation and a streaming parse of large, well-formed `word/document.xml`.
final class DocxLimitTests: XCTestCase {
    static let open = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body>"
    static let close = "</w:body></w:document>"

    /// A .docx whose document.xml holds `count` paragraphs of `paragraph`.
    func makeDocx(paragraph: String, count: Int) throws -> (docx: Data, xmlBytes: Int) {
        var xml = Data(Self.open.utf8)
        let p = Data("<w:p><w:r><w:t>\(paragraph)</w:t></w:r></w:p>".utf8)
        for _ in 0..<count { xml.append(p) }
        xml.append(Data(Self.close.utf8))
        let archive = try Archive(data: Data(), accessMode: .create)
        try archive.addEntry(with: "word/document.xml", type: .file, uncompressedSize: Int64(xml.count),
                             compressionMethod: .deflate) { pos, size in xml.subdata(in: Int(pos)..<(Int(pos) + size)) }
        return (try XCTUnwrap(archive.data), xml.count)
    }

    func testZipBombStopsAtTheLimitWhileInflating() throws {
        // 0.2 MB of zip inflating to 60 MB of XML; the limit is 1 MB.
        let (bomb, xmlBytes) = try makeDocx(paragraph: String(repeating: "a", count: 1000), count: 60_000)
        XCTAssertLessThan(bomb.count, 1 << 20)
        XCTAssertGreaterThan(xmlBytes, 50 << 20)
        XCTAssertThrowsError(try DocxReader.text(from: bomb, maximumXMLBytes: 1 << 20)) {
            XCTAssertEqual($0 as? DocDiffError, .docxTooLarge(limit: 1 << 20))
        }
        XCTAssertThrowsError(try TextDocument.load(data: bomb, format: .docx, limits: InputLimits(maximumBytes: 1 << 20))) {
            XCTAssertEqual($0 as? DocDiffError, .docxTooLarge(limit: 1 << 20))
        }
    }

    func testWellFormedDocumentXMLOverTenMegabytesIsRead() throws {
        let (docx, xmlBytes) = try makeDocx(paragraph: "The Supplier shall deliver the Goods within thirty (30) days.", count: 130_000)
        XCTAssertGreaterThan(xmlBytes, 12_000_000)   // libxml2 refuses more than 10,000,000 bytes in one chunk
        let paragraphs = try DocxReader.paragraphs(from: docx)
        XCTAssertEqual(paragraphs.count, 130_000)
        XCTAssertEqual(paragraphs.last, "The Supplier shall deliver the Goods within thirty (30) days.")
    }
}
