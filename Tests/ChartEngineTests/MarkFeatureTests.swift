import ChartEngine
import XCTest

/// Horizontal bars and tooltips.
final class MarkFeatureTests: XCTestCase {
    static let horizontal = #"""
    {"width": 400, "height": 200, "data": {"values": [{"k": "a", "v": 3}, {"k": "b", "v": 6}, {"k": "c", "v": 1.5}]},
     "mark": "bar", "encoding": {"y": {"field": "k", "type": "nominal"}, "x": {"field": "v", "type": "quantitative"}}}
    """#

    func testHorizontalBarsRunAlongXFromZero() throws {
        let out = try Charts.svg(Self.horizontal)
        XCTAssertEqual(Charts.count(out, role: "mark-bar"), 3)
        XCTAssertEqual(Charts.texts(out, role: "tick-label-y"), ["a", "b", "c"], "the categories on y")
        XCTAssertEqual(Charts.texts(out, role: "tick-label-x").first, "0", "the values on x from zero")
        let widths = Charts.attribute(out, role: "mark-bar", "width"), heights = Charts.attribute(out, role: "mark-bar", "height")
        XCTAssertEqual(widths[1] / widths[0], 2, accuracy: 0.01, "b is twice a")
        XCTAssertEqual(widths[2] / widths[0], 0.5, accuracy: 0.01)
        XCTAssertEqual(Set(heights).count, 1, "every band the same height")
        let lefts = Charts.attribute(out, role: "mark-bar", "x")
        XCTAssertEqual(Set(lefts).count, 1, "every bar starts at zero")
    }

    func testHorizontalBarsStackByColour() throws {
        let spec = #"""
        {"data": {"values": [{"k": "a", "s": "x", "v": 3}, {"k": "a", "s": "y", "v": 4}, {"k": "b", "s": "x", "v": 2}, {"k": "b", "s": "y", "v": 1}]},
         "mark": "bar", "encoding": {"y": {"field": "k", "type": "nominal"}, "x": {"field": "v", "type": "quantitative"}, "color": {"field": "s", "type": "nominal"}}}
        """#
        let out = try Charts.svg(spec)
        XCTAssertEqual(Charts.count(out, role: "mark-bar"), 4)
        let xs = Charts.attribute(out, role: "mark-bar", "x"), widths = Charts.attribute(out, role: "mark-bar", "width")
        XCTAssertEqual(xs[1], xs[0] + widths[0], accuracy: 0.02, "a's second segment starts where its first ends")
        XCTAssertTrue(["7", "8"].contains(Charts.texts(out, role: "tick-label-x").last!), "the x domain reaches the stacked sum 7")
        XCTAssertEqual(Charts.texts(out, role: "legend-label"), ["x", "y"])
    }

    func testTooltipsAreSVGTitles() throws {
        let spec = #"""
        {"data": {"values": [{"k": "a", "v": 3, "note": "low & <ok>"}, {"k": "b", "v": 6, "note": "high"}]}, "mark": "point",
         "encoding": {"x": {"field": "k", "type": "nominal"}, "y": {"field": "v", "type": "quantitative"},
                      "tooltip": [{"field": "k", "type": "nominal"}, {"field": "note", "type": "nominal", "title": "Note"}]}}
        """#
        let out = try Charts.svg(spec)
        XCTAssertTrue(out.contains("<title>k: a\nNote: low &amp; &lt;ok&gt;</title></circle>"), out)
        XCTAssertTrue(out.contains("<title>k: b\nNote: high</title>"))
        // "tooltip": true on the mark: every encoded field.
        let bars = try Charts.svg(Self.horizontal.replacingOccurrences(of: #""mark": "bar""#, with: #""mark": {"type": "bar", "tooltip": true}"#))
        XCTAssertEqual(bars.components(separatedBy: "<title>").count - 1, 3)
        XCTAssertTrue(bars.contains("<title>v: 6\nk: b</title></rect>") || bars.contains("<title>k: b\nv: 6</title></rect>"), bars)
        // Temporal tooltips in the chart's time zone.
        let timed = #"""
        {"timeZone": "America/New_York", "data": {"values": [{"t": "2024-07-04T16:30:00Z", "v": 1}]}, "mark": "point",
         "encoding": {"x": {"field": "t", "type": "temporal"}, "y": {"field": "v", "type": "quantitative"}, "tooltip": {"field": "t", "type": "temporal"}}}
        """#
        XCTAssertTrue(try Charts.svg(timed).contains("<title>t: 2024-07-04 12:30</title>"), "16:30 UTC is 12:30 EDT")
        // No tooltip, no title.
        XCTAssertFalse(try Charts.svg(Self.horizontal).contains("<title>"))
    }

    func testBadTooltipsNameTheirPath() {
        let base = #"{"data": {"values": [{"k": "a", "v": 3}]}, "mark": MARK, "encoding": {"x": {"field": "k", "type": "nominal"}, "y": {"field": "v", "type": "quantitative"}TIP}}"#
        func spec(_ mark: String, _ tip: String) -> String { base.replacingOccurrences(of: "MARK", with: mark).replacingOccurrences(of: "TIP", with: tip) }
        XCTAssertEqual(Charts.refusal(spec(#""point""#, #", "tooltip": [{"field": "k", "type": "nominal"}, {"field": "nope", "type": "nominal"}]"#))?.path,
                       "$.encoding.tooltip[1].field")
        XCTAssertEqual(Charts.refusal(spec(#""point""#, #", "tooltip": [{"value": 1}]"#))?.path, "$.encoding.tooltip[0].field")
        XCTAssertEqual(Charts.refusal(spec(#""point""#, #", "tooltip": []"#))?.path, "$.encoding.tooltip")
        let many = (0..<17).map { _ in #"{"field": "k", "type": "nominal"}"# }.joined(separator: ",")
        XCTAssertEqual(Charts.refusal(spec(#""point""#, #", "tooltip": [\#(many)]"#))?.kind, .tooLarge)
        XCTAssertEqual(Charts.refusal(spec(#"{"type": "point", "tooltip": "yes"}"#, ""))?.path, "$.mark.tooltip")
        XCTAssertEqual(Charts.refusal(spec(#"{"type": "point", "tooltip": {"content": "html"}}"#, ""))?.path, "$.mark.tooltip.content")
    }
}
