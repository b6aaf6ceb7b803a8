import ChartEngine
import XCTest

/// Specs outside the subset or with bad values are refused with the JSON path of the fault.
final class BadInputTests: XCTestCase {
    func refusal(_ spec: String, limits: ChartLimits = ChartLimits()) -> ChartError? {
        do {
            var compiler = ChartCompiler(limits: limits)
            compiler.limits = limits
            _ = try compiler.compile(try ChartRenderer.parseSpec(Array(spec.utf8)))
            return nil
        } catch { return error }
    }

    let data = #""data": {"values": [{"a": 1, "b": 2}]}"#
    let xy = #""encoding": {"x": {"field": "a", "type": "quantitative"}, "y": {"field": "b", "type": "quantitative"}}"#

    func testUnknownMarkNamesThePath() {
        let error = refusal(#"{\#(data), "mark": "sankey", \#(xy)}"#)
        XCTAssertEqual(error?.path, "$.mark")
        XCTAssertTrue(error?.message.contains("unknown mark 'sankey'") == true)
    }

    func testKeysOutsideTheSubsetAreRefused() {
        XCTAssertEqual(refusal(#"{\#(data), "mark": "bar", \#(xy), "projection": {}}"#)?.path, "$.projection")
        XCTAssertEqual(refusal(#"{\#(data), "mark": "bar", "encoding": {"shape": {"field": "a", "type": "nominal"}}}"#)?.path, "$.encoding.shape")
        XCTAssertEqual(refusal(#"{"data": {"url": "http://x"}, "mark": "bar", \#(xy)}"#)?.path, "$.data.url")
        XCTAssertEqual(refusal(#"{\#(data), "transform": [{"lookup": "x"}], "mark": "bar", \#(xy)}"#)?.path, "$.transform[0].lookup")
    }

    func testMissingFieldNamesTheChannel() {
        let error = refusal(#"{\#(data), "mark": "line", "encoding": {"x": {"field": "a", "type": "quantitative"}, "y": {"field": "nope", "type": "quantitative"}}}"#)
        XCTAssertEqual(error?.path, "$.encoding.y.field")
        XCTAssertTrue(error?.message.contains("'nope' is not in the data") == true)
    }

    func testNaNIsRefused() {
        XCTAssertEqual(refusal(#"{"data": {"values": [{"a": 1, "b": NaN}]}, "mark": "line", \#(xy)}"#)?.kind, .syntax)
        let error = refusal(#"{"data": {"values": [{"a": 1, "b": "NaN"}]}, "mark": "line", \#(xy)}"#)
        XCTAssertEqual(error?.path, "$.encoding.y.field")
        XCTAssertTrue(error?.message.contains("row 0") == true)
    }

    func testDeepLayersAreRefused() {
        var spec = #"{"mark": "point", \#(xy)}"#
        for _ in 0..<6 { spec = #"{"layer": [\#(spec)]}"# }
        spec = #"{\#(data), "layer": [\#(spec)]}"#
        let error = refusal(spec)
        XCTAssertEqual(error?.kind, .tooLarge)
        XCTAssertTrue(error?.path.hasPrefix("$.layer[0].layer[0]") == true, error?.path ?? "")
    }

    func testTooManyPointsAreRefusedBeforeDrawing() {
        var limits = ChartLimits()
        limits.maxRows = 1000
        let rows = (0..<1001).map { "{\"a\": \($0), \"b\": 1}" }.joined(separator: ",")
        let error = refusal(#"{"data": {"values": [\#(rows)]}, "mark": "line", \#(xy)}"#, limits: limits)
        XCTAssertEqual(error?.kind, .tooLarge)
        XCTAssertEqual(error?.path, "$.data.values")
    }

    func testExpressionsCannotCallAnythingOutsideTheLanguage() {
        for (expression, fragment) in [("alert(1)", "calling 'alert' is not allowed"), ("datum.a.constructor", "unexpected '.'"),
                                       ("this.x", "unknown name 'this'"), ("datum.a = 1", "unexpected '='"), ("(1", "expected ')'")] {
            let error = refusal(#"{\#(data), "transform": [{"filter": "\#(expression)"}], "mark": "point", \#(xy)}"#)
            XCTAssertEqual(error?.path, "$.transform[0].filter", expression)
            XCTAssertTrue(error?.message.contains(fragment) == true, "\(expression): \(error?.message ?? "nil")")
        }
    }

    func testExpressionsEvaluate() throws {
        let e = try Expression.parse("datum.a > 1 && !(datum.b == 'x') ? pow(datum.a, 2) : -1", path: "$")
        XCTAssertEqual(e.evaluate { $0 == "a" ? .number(3) : .string("y") }, .number(9))
        XCTAssertEqual(e.evaluate { $0 == "a" ? .number(3) : .string("x") }, .number(-1))
    }
}

/// Ticks, formats, calendar arithmetic and LTTB on their own.
final class PartsTests: XCTestCase {
    func testNiceTicks() {
        XCTAssertEqual(Ticks.linear(0, 1, count: 5).values, [0, 0.2, 0.4, 0.6, 0.8, 1])
        XCTAssertEqual(Ticks.linear(0, 97, count: 10).values.last, 90)
        XCTAssertTrue(Ticks.nice(3, 97, count: 10) == (0, 100))
    }

    func testNumberFormats() throws {
        XCTAssertEqual(try NumberFormat(pattern: ",d", path: "$").format(1234567), "1,234,567")
        XCTAssertEqual(try NumberFormat(pattern: ".1%", path: "$").format(0.256), "25.6%")
        XCTAssertEqual(try NumberFormat(pattern: "~s", path: "$").format(1_500_000), "1.5M")
        XCTAssertEqual(try NumberFormat(pattern: ".2f", path: "$").format(3.14159), "3.14")
        XCTAssertThrowsError(try NumberFormat(pattern: "$,.2q", path: "$.x"))
    }

    func testCivilTimeRoundTripsAndParsesISO() {
        let t = CivilTime(year: 2024, month: 2, day: 29, hour: 13, minute: 5).milliseconds
        XCTAssertEqual(CivilTime(milliseconds: t), CivilTime(year: 2024, month: 2, day: 29, hour: 13, minute: 5))
        XCTAssertEqual(CivilTime.parseISO("2024-02-29T13:05:00Z"), t)
        XCTAssertEqual(CivilTime.parseISO("2024-02-29T14:05:00+01:00"), t)
        XCTAssertNil(CivilTime.parseISO("yesterday"))
    }

    func testLTTBKeepsEndpointsAndPeaks() {
        let xs = (0..<1000).map(Double.init)
        var ys = [Double](repeating: 0, count: 1000)
        ys[500] = 100
        let kept = LTTB.downsample(xs: xs, ys: ys, threshold: 50)
        XCTAssertEqual(kept.count, 50)
        XCTAssertEqual(kept.first, 0)
        XCTAssertEqual(kept.last, 999)
        XCTAssertTrue(kept.contains(500))
    }
}
