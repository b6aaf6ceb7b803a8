import ChartEngine
import XCTest

/// Facets (small multiples sharing scales) and concats (independent views side by side).
final class CompositionTests: XCTestCase {
    static let rows = #"[{"g": "north", "k": "a", "v": 1}, {"g": "north", "k": "b", "v": 4}, {"g": "south", "k": "a", "v": 8}, {"g": "south", "k": "b", "v": 2}, {"g": "east", "k": "a", "v": 3}, {"g": "east", "k": "b", "v": 3}]"#

    static let facet = #"""
    {"title": "Regions", "data": {"values": \#(rows)}, "facet": {"field": "g", "type": "nominal"}, "columns": 2,
     "spec": {"width": 200, "height": 150, "mark": "bar", "encoding": {"x": {"field": "k", "type": "nominal"}, "y": {"field": "v", "type": "quantitative"}}}}
    """#

    func testFacetDrawsOneCellPerValueWithSharedScales() throws {
        let out = try Charts.svg(Self.facet)
        XCTAssertEqual(Charts.texts(out, role: "facet-label"), ["east", "north", "south"])
        XCTAssertEqual(Charts.count(out, role: "mark-bar"), 6)
        XCTAssertEqual(Charts.count(out, role: "domain-x"), 3, "axes per cell")
        XCTAssertEqual(Charts.texts(out, role: "title"), ["Regions"])
        // Shared y: every cell has the same ticks, up to the largest value of any cell.
        let ticks = Charts.texts(out, role: "tick-label-y")
        XCTAssertEqual(ticks.count % 3, 0)
        let perCell = ticks.count / 3
        XCTAssertEqual(Array(ticks[0..<perCell]), Array(ticks[perCell..<2 * perCell]))
        XCTAssertGreaterThanOrEqual(Double(ticks[perCell - 1]) ?? 0, 8, "the largest value of any cell")
        // Two columns of 200 x 150 under a title: 400 x 330.
        XCTAssertTrue(out.hasPrefix(#"<svg xmlns="http://www.w3.org/2000/svg" width="400" height="330""#), String(out.prefix(120)))
        let png = try PNGImage(try Charts.render(Self.facet, .png))
        XCTAssertEqual([png.width, png.height], [400, 330])
    }

    func testFacetRowAndColumnMakeAGrid() throws {
        let spec = #"""
        {"data": {"values": \#(Self.rows)}, "facet": {"row": {"field": "g", "type": "nominal"}, "column": {"field": "k", "type": "nominal"}},
         "spec": {"mark": "point", "encoding": {"x": {"field": "v", "type": "quantitative"}, "y": {"field": "v", "type": "quantitative"}}}}
        """#
        let out = try Charts.svg(spec)
        XCTAssertEqual(Charts.texts(out, role: "facet-label"), ["east · a", "east · b", "north · a", "north · b", "south · a", "south · b"])
        XCTAssertEqual(Charts.count(out, role: "mark-point"), 6)
    }

    func testConcatsPlaceIndependentViews() throws {
        let bars = #"{"width": 300, "height": 200, "mark": "bar", "encoding": {"x": {"field": "k", "type": "nominal"}, "y": {"field": "v", "type": "quantitative", "aggregate": "sum"}}}"#
        let own = #"{"width": 250, "height": 120, "data": {"values": [{"x": 1, "y": 100}, {"x": 2, "y": 300}]}, "mark": "point", "encoding": {"x": {"field": "x", "type": "quantitative"}, "y": {"field": "y", "type": "quantitative"}}}"#
        let h = try Charts.svg(#"{"data": {"values": \#(Self.rows)}, "hconcat": [\#(bars), \#(own)]}"#)
        XCTAssertEqual(Charts.count(h, role: "mark-bar"), 2, "the first view inherits the top-level data")
        XCTAssertEqual(Charts.count(h, role: "mark-point"), 2, "the second has its own")
        XCTAssertTrue(h.hasPrefix(#"<svg xmlns="http://www.w3.org/2000/svg" width="560" height="200""#), String(h.prefix(120)))
        // Independent scales: the second view's y reaches 300, the first's (sums of 12 and 9) stays small.
        let values = Charts.texts(h, role: "tick-label-y").compactMap(Double.init)
        XCTAssertTrue(values.contains { $0 >= 300 } && values.contains { $0 > 0 && $0 < 50 }, "\(values)")
        let v = try Charts.svg(#"{"data": {"values": \#(Self.rows)}, "vconcat": [\#(bars), \#(own)]}"#)
        XCTAssertTrue(v.hasPrefix(#"<svg xmlns="http://www.w3.org/2000/svg" width="300" height="330""#), String(v.prefix(120)))
        let wrapped = try Charts.svg(#"{"data": {"values": \#(Self.rows)}, "concat": [\#(bars), \#(bars), \#(bars)], "columns": 2}"#)
        XCTAssertTrue(wrapped.hasPrefix(#"<svg xmlns="http://www.w3.org/2000/svg" width="610" height="410""#), String(wrapped.prefix(120)))
        XCTAssertEqual(Charts.count(wrapped, role: "mark-bar"), 6)
    }

    func testBadCompositionsNameTheirPath() {
        let cell = #""spec": {"mark": "bar", "encoding": {"x": {"field": "k", "type": "nominal"}, "y": {"field": "v", "type": "quantitative"}}}"#
        let data = #""data": {"values": \#(Self.rows)}"#
        XCTAssertEqual(Charts.refusal(#"{\#(data), "facet": {"field": "nope", "type": "nominal"}, \#(cell)}"#)?.path, "$.facet.field")
        XCTAssertEqual(Charts.refusal(#"{\#(data), "facet": {"field": "g", "type": "nominal"}}"#)?.path, "$.spec")
        XCTAssertEqual(Charts.refusal(#"{\#(data), "facet": {"field": "g", "type": "nominal"}, "columns": 0, \#(cell)}"#)?.path, "$.columns")
        XCTAssertEqual(Charts.refusal(#"{\#(data), "facet": {"field": "g", "type": "nominal"}, "mark": "bar", \#(cell)}"#)?.path, "$.mark")
        XCTAssertEqual(Charts.refusal(#"{\#(data), "facet": {"field": "g", "type": "nominal"}, "spec": {"data": {"values": []}, "mark": "bar"}}"#)?.path, "$.spec.data")
        XCTAssertEqual(Charts.refusal(#"{\#(data), "facet": {"field": "g", "type": "nominal", "aggregate": "sum"}, \#(cell)}"#)?.path, "$.facet.field")
        XCTAssertEqual(Charts.refusal(#"{"facet": {"field": "g", "type": "nominal"}, \#(cell)}"#)?.path, "$.data")
        XCTAssertEqual(Charts.refusal(#"{\#(data), "spec": {"mark": "bar"}}"#)?.path, "$.spec")
        XCTAssertEqual(Charts.refusal(#"{\#(data), "facet": {"field": "g", "type": "nominal"}, "hconcat": [], \#(cell)}"#)?.path, "$.hconcat")
        XCTAssertEqual(Charts.refusal(#"{\#(data), "hconcat": []}"#)?.path, "$.hconcat")
        XCTAssertEqual(Charts.refusal(#"{"hconcat": [{"mark": "bar", "encoding": {}}]}"#)?.path, "$.hconcat[0].data")
        XCTAssertEqual(Charts.refusal(#"{\#(data), "hconcat": [{"hconcat": []}]}"#)?.path, "$.hconcat[0].hconcat")
        XCTAssertEqual(Charts.refusal(#"{\#(data), "vconcat": [{"mark": "sankey"}]}"#)?.path, "$.vconcat[0].mark")
        XCTAssertEqual(Charts.refusal(#"{\#(data), "hconcat": [{"mark": "bar"}], "columns": 2}"#)?.path, "$.columns")
        // Too many cells, too many pixels.
        let many = (0..<70).map { #"{"g": "g\#($0)", "k": "a", "v": 1}"# }.joined(separator: ",")
        let tooMany = Charts.refusal(#"{"data": {"values": [\#(many)]}, "facet": {"field": "g", "type": "nominal"}, \#(cell)}"#)
        XCTAssertEqual(tooMany?.path, "$.facet")
        XCTAssertEqual(tooMany?.kind, .tooLarge)
        let big = #"{"width": 4000, "height": 4000, "mark": "bar", "encoding": {"x": {"field": "k", "type": "nominal"}, "y": {"field": "v", "type": "quantitative"}}}"#
        XCTAssertEqual(Charts.refusal(#"{\#(data), "hconcat": [\#(big), \#(big)]}"#)?.kind, .tooLarge)
    }
}
