import Foundation
import WhiteLabelEngine
import XCTest

/// Logo uploads found by the `logo` fuzz harness (Fuzz/regressions/logo), and the sizes that
/// trapped converting to Int.
final class LogoHostileInputTests: XCTestCase {
    func refusal(_ bytes: [UInt8]) -> String {
        do { _ = try LogoCheck.check(bytes); return "accepted" } catch { return "\(error)" }
    }

    /// 287 bytes of SVG that is not well-formed: FoundationXML's XMLParser leaked a string per
    /// XML error (every malformed SVG upload). libxml2's reader now reads it: a clear refusal.
    func testTheSVGThatLeakedInFoundationXMLIsRefused() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Fuzz/regressions/logo/leak-foundationxml-error").standardized
        let input = Array(try Data(contentsOf: url))
        XCTAssertEqual(input.count, 287)
        XCTAssertEqual(refusal(input), "the SVG is not well-formed XML")
    }

    /// Sizes beyond Int (1e30, inf) trapped in `Int(Double)`: now they are too large, and NaN is no size.
    func testHugeAndNonNumericSizesAreRefusedNotATrap() {
        let svg = { (w: String, h: String) in Array(#"<svg xmlns="http://www.w3.org/2000/svg" width="\#(w)" height="\#(h)"/>"#.utf8) }
        XCTAssertTrue(refusal(svg("1e30", "10")).contains("each side must be 1 to 4096"), refusal(svg("1e30", "10")))
        XCTAssertTrue(refusal(svg("10", "-1e300")).contains("each side must be 1 to 4096"))
        XCTAssertTrue(refusal(svg("nan", "10")).contains("each side must be 1 to 4096"))
        let box = Array(#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1e999 inf"/>"#.utf8)
        XCTAssertTrue(refusal(box).contains("each side must be 1 to 4096"), refusal(box))
        XCTAssertEqual(try LogoCheck.check(svg("12.5px", "40")), LogoCheck.Accepted(kind: .svg, width: 13, height: 40))
    }

    func testProcessingInstructionsAndEntitiesAreRefused() {
        XCTAssertTrue(refusal(Array(#"<?xml version="1.0"?><?evil x?><svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>"#.utf8)).contains("processing instruction"))
        XCTAssertTrue(refusal(Array(#"<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1">&undefined;</svg>"#.utf8)).contains("not well-formed"))
    }
}
