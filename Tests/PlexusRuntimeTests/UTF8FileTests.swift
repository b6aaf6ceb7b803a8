import Foundation
import XCTest
@testable import PlexusRuntime

/// Operator files are read with read(2): Foundation's readers leak 4 KB per empty file (found by
/// the `runtime-config` fuzz harness, whose first input is an empty file).
final class UTF8FileTests: XCTestCase {
    func file(_ bytes: [UInt8]) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("plexus-utf8-\(UUID().uuidString).toml")
        try Data(bytes).write(to: url)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func testAnEmptyFileIsEmptyTextAndAnEmptyConfigIsTheDefaults() throws {
        let empty = try file([])
        XCTAssertEqual(UTF8File.read(empty), "")
        XCTAssertEqual(try TOMLFile.flatten(contentsOf: empty), [:])
        XCTAssertNoThrow(try RuntimeConfig(file: empty))
    }

    func testTextIsReadWholeAndInvalidUTF8OrAMissingFileIsNil() throws {
        let text = String(repeating: "a = \"é\"\n", count: 20_000)  // more than one 64 KB read
        XCTAssertEqual(UTF8File.read(try file(Array(text.utf8))), text)
        XCTAssertNil(UTF8File.read(try file([0x61, 0xFF, 0x0A])))
        XCTAssertNil(UTF8File.read(URL(fileURLWithPath: "/nonexistent/plexus.toml")))
        XCTAssertThrowsError(try TOMLFile.flatten(contentsOf: try file([0xC3]))) {
            XCTAssertTrue("\($0)".contains("cannot be read as UTF-8 text"), "\($0)")
        }
    }
}
