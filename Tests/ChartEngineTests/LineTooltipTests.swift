import ChartEngine
import XCTest

/// Tooltips on lines and areas: invisible hover targets at the points, each with its row's SVG `<title>`,
/// bounded for long series, and absent from PNG.
final class LineTooltipTests: XCTestCase {
    func spec(_ mark: String, rows: Int, tooltip: String) -> String {
        let values = (0..<rows).map { #"{"t": \#($0), "v": \#(Double($0 % 17) / 4)}"# }.joined(separator: ",")
        return #"""
        {"width": 400, "height": 200, "data": {"values": [\#(values)]}, "mark": \#(mark),
         "encoding": {"x": {"field": "t", "type": "quantitative"}, "y": {"field": "v", "type": "quantitative"}\#(tooltip)}}
        """#
    }

    func testEveryPointOfAShortLineHasAHoverTargetWithItsTooltip() throws {
        let out = try Charts.svg(spec(#""line""#, rows: 20, tooltip: #", "tooltip": [{"field": "t", "type": "quantitative"}, {"field": "v", "type": "quantitative", "title": "Value"}]"#))
        XCTAssertEqual(Charts.count(out, role: "mark-hover"), 20)
        XCTAssertEqual(Charts.count(out, role: "mark-line"), 1)
        XCTAssertTrue(out.contains("<title>t: 3\nValue: 0.75</title></circle>"), out)
        XCTAssertTrue(out.contains("fill-opacity=\"0\"") || out.contains("opacity=\"0\""), "the targets are invisible")
        // Each target sits on the line: its centre is one of the path's points.
        let cxs = Charts.attribute(out, role: "mark-hover", "cx")
        XCTAssertEqual(cxs, cxs.sorted(), "in x order")
    }

    func testAreaWithMarkTooltipTrueGetsTargetsToo() throws {
        let out = try Charts.svg(spec(#"{"type": "area", "tooltip": true}"#, rows: 12, tooltip: ""))
        XCTAssertEqual(Charts.count(out, role: "mark-hover"), 12)
        XCTAssertTrue(out.contains("<title>t: 5\nv: 1.25</title>") || out.contains("<title>v: 1.25\nt: 5</title>"), out)
    }

    func testALongLineGetsAtMostTheBoundOfTargets() throws {
        let out = try Charts.svg(spec(#""line""#, rows: 50_000, tooltip: #", "tooltip": {"field": "v", "type": "quantitative"}"#))
        let targets = Charts.count(out, role: "mark-hover")
        XCTAssertGreaterThan(targets, 200)
        XCTAssertLessThanOrEqual(targets, 500)
    }

    func testALineWithoutTooltipsHasNoTargets() throws {
        XCTAssertEqual(Charts.count(try Charts.svg(spec(#""line""#, rows: 20, tooltip: "")), role: "mark-hover"), 0)
    }

    func testPNGIgnoresTheTargets() throws {
        let plain = try Charts.render(spec(#""line""#, rows: 300, tooltip: ""), .png)
        let tipped = try Charts.render(spec(#""line""#, rows: 300, tooltip: #", "tooltip": {"field": "v", "type": "quantitative"}"#), .png)
        XCTAssertEqual(plain, tipped, "invisible targets draw nothing")
    }
}
