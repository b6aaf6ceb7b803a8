import Foundation
import XCTest
import ZIPFoundation
@testable import DocDiff

/// Uploads that are not a zip are refused before ZIPFoundation reads them: it leaks a copy of
/// the whole upload when its end-record scan fails (found by the `docx` fuzz harness; its
/// minimised input is one newline, Fuzz/regressions/docx).
final class ZIPEndRecordTests: XCTestCase {
    func zip(comment: String = "") throws -> Data {
        let archive = try Archive(data: Data(), accessMode: .create)
        let xml = Data("<w:document xmlns:w=\"x\"><w:body><w:p><w:r><w:t>a</w:t></w:r></w:p></w:body></w:document>".utf8)
        try archive.addEntry(with: "word/document.xml", type: .file, uncompressedSize: Int64(xml.count),
                             compressionMethod: .none) { pos, size in xml.subdata(in: Int(pos)..<(Int(pos) + size)) }
        return try XCTUnwrap(archive.data)
    }

    func testTheFuzzersInputIsRefusedAsNotAZip() {
        XCTAssertThrowsError(try DocxReader.paragraphs(from: Data([0x0A]))) {
            XCTAssertEqual($0 as? DocDiffError, .docxNotAZipArchive)
        }
        XCTAssertFalse(ZIPEndRecord.isPresent(in: Data([0x0A])))
    }

    func testARealArchiveHasItsEndRecordAndIsRead() throws {
        let data = try zip()
        XCTAssertTrue(ZIPEndRecord.isPresent(in: data))
        XCTAssertEqual(try DocxReader.paragraphs(from: data), ["a"])
    }

    func testAnEndRecordCutShortOrACommentCutShortIsAbsent() throws {
        let data = try zip()
        XCTAssertFalse(ZIPEndRecord.isPresent(in: data.prefix(data.count - 1)), "the record's last byte is missing")
        // The end record declares a 5-byte comment that is not there.
        var lying = data
        lying[lying.count - 2] = 5
        XCTAssertFalse(ZIPEndRecord.isPresent(in: lying))
        XCTAssertThrowsError(try DocxReader.paragraphs(from: lying)) { XCTAssertEqual($0 as? DocDiffError, .docxNotAZipArchive) }
        // With the comment appended, ZIPFoundation's scan and this one accept it again.
        lying.append(contentsOf: Array("12345".utf8))
        XCTAssertTrue(ZIPEndRecord.isPresent(in: lying))
    }

    func testOnlyTheSignatureNearestTheEndCounts() {
        // A signature in the last 22 bytes has no room for its record: ZIPFoundation never looks there.
        var bytes = [UInt8](repeating: 0, count: 40)
        bytes.replaceSubrange(30..<34, with: ZIPEndRecord.signature)
        XCTAssertFalse(ZIPEndRecord.isPresent(in: Data(bytes)))
        // One further back, with a whole (empty-comment) record after it, is found.
        bytes.replaceSubrange(0..<4, with: ZIPEndRecord.signature)
        XCTAssertTrue(ZIPEndRecord.isPresent(in: Data(bytes)))
    }
}
