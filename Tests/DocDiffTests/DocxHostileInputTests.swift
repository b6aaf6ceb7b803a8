import Foundation
import XCTest
@testable import DocDiff

/// Uploads the `docx` fuzz harness found to crash or leak the reader, minimised (also in
/// Fuzz/regressions/docx, replayed by every fuzz run). The reader now reads zips from a file.
final class DocxHostileInputTests: XCTestCase {
    /// 130 bytes whose central directory starts past the end of the data: ZIPFoundation's
    /// in-memory archive trapped reading there, killing the process.
    static let centralDirectoryPastEnd: [UInt8] = [
        0x50, 0x4B, 0x03, 0x3E, 0x78, 0x3C, 0x2F, 0x77, 0x3A, 0x74, 0x3E, 0x3C, 0x2F, 0x77, 0x3A, 0x72, 0x3E, 0x3C, 0x2F, 0x77,
        0x3A, 0x70, 0x3E, 0x3C, 0x2F, 0x77, 0x3A, 0x62, 0x6F, 0x64, 0x79, 0x3E, 0x3C, 0x2F, 0x77, 0x3A, 0x64, 0x6F, 0x63, 0x75,
        0x6D, 0x65, 0x6E, 0x74, 0x3E, 0x50, 0x4B, 0x01, 0x02, 0x14, 0x03, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x30, 0x03, 0x87,
        0x5D, 0x1C, 0x2D, 0x26, 0x08, 0x58, 0x00, 0x00, 0x00, 0x58, 0x00, 0x00, 0x00, 0x11, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x01, 0x00, 0x00, 0x00, 0x00, 0x77, 0x6F, 0x72, 0x64, 0x2F, 0x64, 0x6F, 0x63, 0x75,
        0x6D, 0x65, 0x6E, 0x74, 0x2E, 0x78, 0x6D, 0x6C, 0x50, 0x4B, 0x05, 0x06, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00,
        0x3F, 0x00, 0x00, 0x00, 0x87, 0x00, 0x00, 0x00, 0x00, 0x00,
    ]

    func testACentralDirectoryPastTheEndIsRefusedNotACrash() {
        XCTAssertThrowsError(try DocxReader.paragraphs(from: Data(Self.centralDirectoryPastEnd))) { error in
            let refusal = error as? DocDiffError
            XCTAssertTrue(refusal == .docxNotAZipArchive || refusal == .docxMissingDocumentXML, "\(error)")
        }
    }

    /// One newline: no end record. ZIPFoundation's in-memory archive leaked its copy of the upload here.
    func testBytesWithoutAnEndRecordAreNotAZip() {
        XCTAssertThrowsError(try DocxReader.paragraphs(from: Data([0x0A]))) { XCTAssertEqual($0 as? DocDiffError, .docxNotAZipArchive) }
        XCTAssertThrowsError(try DocxReader.paragraphs(from: Data())) { XCTAssertEqual($0 as? DocDiffError, .docxNotAZipArchive) }
    }

    func testNoTemporaryFileIsLeftBehind() throws {
        let directory = FileManager.default.temporaryDirectory.path
        let before = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix("plexus-docx-") }.count
        _ = try? DocxReader.paragraphs(from: Data(Self.centralDirectoryPastEnd))
        _ = try? DocxReader.paragraphs(from: Data([0x0A]))
        let after = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix("plexus-docx-") }.count
        XCTAssertEqual(after, before)
    }

    /// ZIPFoundation reads an entry's bytes until it has them all: past the end of a file it reads
    /// nothing, forever. The reader refuses a central directory or entry that reaches past the end.
    func testAnArchiveReachingPastItsEndIsRefusedBeforeExtraction() throws {
        XCTAssertFalse(ZIPBounds.check(Data(Self.centralDirectoryPastEnd)))
        XCTAssertFalse(ZIPBounds.check(Data([0x0A])))
    }
}
