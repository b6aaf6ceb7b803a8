import ChartEngine
import XCTest

/// Grouped horizontal bars (`yOffset`), the counterpart of `xOffset` for vertical bars, and its bad inputs.
final class GroupedHorizontalBarTests: XCTestCase {
    static let data = #"""
    "data": {"values": [{"k": "a", "s": "p", "v": 3}, {"k": "a", "s": "q", "v": 4}, {"k": "a", "s": "r", "v": 1},
                        {"k": "b", "s": "p", "v": 2}, {"k": "b", "s": "q", "v": 5}, {"k": "b", "s": "r", "v": 6}]}
    """#

    func grouped(_ extra: String = "") -> String {
        #"""
        {"width": 400, "height": 300, \#(Self.data), "mark": "bar",
         "encoding": {"y": {"field": "k", "type": "nominal"}, "x": {"field": "v", "type": "quantitative"},
                      "yOffset": {"field": "s", "type": "nominal"}, "color": {"field": "s", "type": "nominal"}\#(extra)}}
        """#
    }

    func testBarsSplitEachBandIntoOneSlotPerGroup() throws {
        let out = try Charts.svg(grouped())
        XCTAssertEqual(Charts.count(out, role: "mark-bar"), 6)
        let ys = Charts.attribute(out, role: "mark-bar", "y"), heights = Charts.attribute(out, role: "mark-bar", "height")
        let xs = Charts.attribute(out, role: "mark-bar", "x"), widths = Charts.attribute(out, role: "mark-bar", "width")
        XCTAssertEqual(Set(heights.map { ($0 * 100).rounded() }).count, 1, "every slot the same height")
        XCTAssertEqual(Set(xs).count, 1, "not stacked: every bar starts at zero")
        // Band a: p, q, r one below the other, each a slot apart; band b the same order.
        XCTAssertEqual(ys[1] - ys[0], heights[0], accuracy: 0.02)
        XCTAssertEqual(ys[2] - ys[1], heights[0], accuracy: 0.02)
        XCTAssertTrue(ys[3] >= ys[2] + heights[0] || ys[5] + heights[0] <= ys[0], "band b apart from band a")
        XCTAssertEqual(ys[4] - ys[3], heights[0], accuracy: 0.02)
        XCTAssertEqual(widths[1] / widths[0], 4.0 / 3.0, accuracy: 0.01, "lengths follow the values")
        XCTAssertEqual(widths[5] / widths[3], 3, accuracy: 0.01)
        XCTAssertEqual(Charts.texts(out, role: "legend-label"), ["p", "q", "r"])
        // Without yOffset the same colours stack instead.
        let stacked = try Charts.svg(grouped().replacingOccurrences(of: #""yOffset": {"field": "s", "type": "nominal"}, "#, with: ""))
        XCTAssertGreaterThan(Set(Charts.attribute(stacked, role: "mark-bar", "x")).count, 1)
    }

    func testTooltipTrueNamesTheGroup() throws {
        let out = try Charts.svg(grouped().replacingOccurrences(of: #""mark": "bar""#, with: #""mark": {"type": "bar", "tooltip": true}"#))
        XCTAssertTrue(out.contains("s: q"), out)
    }

    func testBadOffsetsAreRefusedWithTheirPath() {
        // yOffset on a line, on vertical bars, with a quantitative field; xOffset on horizontal bars.
        let line = grouped().replacingOccurrences(of: #""mark": "bar""#, with: #""mark": "line""#)
        XCTAssertEqual(Charts.refusal(line)?.path, "$.encoding.yOffset")
        let vertical = #"""
        {\#(Self.data), "mark": "bar", "encoding": {"x": {"field": "k", "type": "nominal"}, "y": {"field": "v", "type": "quantitative"},
         "yOffset": {"field": "s", "type": "nominal"}}}
        """#
        XCTAssertEqual(Charts.refusal(vertical)?.path, "$.encoding.yOffset")
        XCTAssertEqual(Charts.refusal(grouped().replacingOccurrences(of: #""yOffset": {"field": "s", "type": "nominal"}"#, with: #""yOffset": {"field": "v", "type": "quantitative"}"#))?.path,
                       "$.encoding.yOffset.type")
        let xOffset = grouped().replacingOccurrences(of: "yOffset", with: "xOffset")
        let refusal = Charts.refusal(xOffset)
        XCTAssertEqual(refusal?.path, "$.encoding.xOffset")
        XCTAssertEqual(refusal?.kind, .invalid)
        XCTAssertTrue(refusal?.message.contains("x is not ordinal or nominal") == true, refusal?.message ?? "")
    }
}
