@testable import ComplianceEngine
import XCTest

/// The pack pattern engine: syntax, case folding, leftmost-first matches.
final class PatternTests: XCTestCase {
    func spans(_ pattern: String, _ text: String) throws -> [String] {
        let scalars = Array(text.lowercased().unicodeScalars)
        return try Pattern(pattern).matches(in: scalars).map { String(String.UnicodeScalarView(scalars[$0])) }
    }

    func testSyntax() throws {
        XCTAssertEqual(try spans("mrn", "Patient MRN: 1"), ["mrn"])
        XCTAssertEqual(try spans("\\bmrn\\b", "Patient MRN: 1"), ["mrn"])
        XCTAssertEqual(try spans("mrn\\s*[:#]?", "Patient MRN: 1"), ["mrn:"])
        XCTAssertEqual(try spans("\\d{5,10}", "id 00482913 x"), ["00482913"])
        XCTAssertEqual(try spans("(mrn|medical record (number|no\\.?))\\s*[:#]?\\s*[a-z]{0,3}\\d{5,10}\\b", "Patient MRN: 00482913 admitted."), ["mrn: 00482913"])
        XCTAssertEqual(try spans("colou?r", "Color and COLOUR"), ["color", "colour"])
        XCTAssertEqual(try spans("[A-C]+", "xxABCAz"), ["abca"])
        XCTAssertEqual(try spans("^item$", "a\nitem\nb"), ["item"])
        XCTAssertEqual(try spans("a.*?b", "a1b2b"), ["a1b"])
    }
}
