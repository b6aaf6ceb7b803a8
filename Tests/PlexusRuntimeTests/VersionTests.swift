@testable import PlexusRuntime
import XCTest

final class VersionTests: XCTestCase {
    func testParsingAndOrdering() {
        XCTAssertEqual(SemanticVersion("1.2.3")?.description, "1.2.3")
        XCTAssertNil(SemanticVersion("1.2"))
        XCTAssertNil(SemanticVersion("1.x.3"))
        XCTAssertNil(SemanticVersion("-1.0.0"))
        XCTAssertLessThan(SemanticVersion("1.2.3-beta")!, SemanticVersion("1.2.3")!)
        XCTAssertLessThan(SemanticVersion("1.2.3")!, SemanticVersion("1.10.0")!)
        XCTAssertEqual(SemanticVersion("2.0.0+build.7"), SemanticVersion(2, 0, 0))
    }

    func testRanges() {
        let table: [(String, String, Bool)] = [
            ("^1.2", "1.2.0", true), ("^1.2", "1.9.9", true), ("^1.2", "2.0.0", false), ("^1.2", "1.1.9", false),
            ("^0.3.1", "0.3.9", true), ("^0.3.1", "0.4.0", false),
            ("~1.2.3", "1.2.9", true), ("~1.2.3", "1.3.0", false),
            (">=1.0.0 <2.0.0", "1.5.0", true), (">=1.0.0 <2.0.0", "2.0.0", false),
            ("1.2.3", "1.2.3", true), ("1.2.3", "1.2.4", false), ("*", "9.9.9", true),
        ]
        for (range, version, expected) in table {
            XCTAssertEqual(VersionRange(range)!.contains(SemanticVersion(version)!), expected, "\(range) ∋ \(version)")
        }
        XCTAssertNil(VersionRange(">=banana"))
    }
}
