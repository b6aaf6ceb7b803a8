@testable import PlexusRuntime
import XCTest

/// Line framing of a request head: CRLF only, no obs-fold, whatever way the head is split into reads.
final class HeadFramingTests: XCTestCase {
    /// Scans `head` cut into pieces at `cuts`, as reads would deliver it.
    private func scan(_ head: String, cuts: [Int] = []) -> HeadFraming.Violation? {
        let bytes = Array(head.utf8)
        var framing = HeadFraming()
        var start = 0
        for end in cuts + [bytes.count] {
            let violation = bytes[start..<end].withUnsafeBytes { framing.scan($0) }
            if let violation { return violation }
            start = end
        }
        return nil
    }

    func testTable() {
        let table: [(head: String, expected: HeadFraming.Violation?)] = [
            ("GET / HTTP/1.1\r\nHost: t\r\n\r\n", nil),
            ("GET / HTTP/1.1\r\nHost: t\r\nX: a b\t c\r\n\r\n", nil),
            ("GET / HTTP/1.0\r\n\r\n", nil),
            ("GET / HTTP/1.1\nHost: t\r\n\r\n", .bareLF),
            ("GET / HTTP/1.1\r\nHost: t\n\r\n", .bareLF),
            ("GET / HTTP/1.1\r\nHost: t\r\n\n", .bareLF),
            ("GET / HTTP/1.1\r\nHost: t\r\nX: a\r\n b\r\n\r\n", .obsFold),
            ("GET / HTTP/1.1\r\nHost: t\r\nX: a\r\n\tb\r\n\r\n", .obsFold),
            ("GET / HTTP/1.1\r\nHost: t\r\nX:\r\n b\r\n\r\n", .obsFold),
            ("GET / HTTP/1.1\r\n Host: t\r\n\r\n", .obsFold),
        ]
        for (head, expected) in table {
            XCTAssertEqual(scan(head), expected, head.debugDescription)
            // The same head split at every byte boundary gives the same verdict.
            for cut in 1..<head.utf8.count {
                XCTAssertEqual(scan(head, cuts: [cut]), expected, "\(head.debugDescription) cut at \(cut)")
            }
        }
    }

    func testEveryByteInItsOwnRead() {
        let folded = "GET / HTTP/1.1\r\nHost: t\r\nX: a\r\n b\r\n\r\n"
        XCTAssertEqual(scan(folded, cuts: Array(1..<folded.utf8.count)), .obsFold)
        let fine = "GET / HTTP/1.1\r\nHost: t\r\n\r\n"
        XCTAssertNil(scan(fine, cuts: Array(1..<fine.utf8.count)))
    }

    func testResetStartsANewHead() {
        let head = Array("GET / HTTP/1.1\r\nHost: t\r\n\r\n".utf8), indented = Array(" x".utf8)
        var continued = HeadFraming()
        XCTAssertNil(head.withUnsafeBytes { continued.scan($0) })
        XCTAssertEqual(indented.withUnsafeBytes { continued.scan($0) }, .obsFold, "without a reset, the bytes continue the head")
        var restarted = HeadFraming()
        XCTAssertNil(head.withUnsafeBytes { restarted.scan($0) })
        restarted.reset()
        XCTAssertNil(indented.withUnsafeBytes { restarted.scan($0) }, "after a reset the previous head's last LF is forgotten")
    }
}
