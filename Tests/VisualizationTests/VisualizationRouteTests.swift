import Foundation
import PlexusTesting
import XCTest

/// The plugin over the real `plexus` binary: render in every format, save and fetch, data sets, bad input.
final class VisualizationRouteTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let binDirectory = URL(fileURLWithPath: ProcessInfo.processInfo.environment["PLEXUS_BIN_DIR"] ?? root.appendingPathComponent(".build/debug").path)

    func start(config: String = "max_points = 5000\n") throws -> TestRuntime {
        let binary = Self.binDirectory.appendingPathComponent("plexus")
        let plugin = Self.binDirectory.appendingPathComponent("libPlexusVisualization.so")
        for file in [binary, plugin] where !FileManager.default.fileExists(atPath: file.path) {
            throw TestFailure("no \(file.path): run `swift build` first (or set PLEXUS_BIN_DIR)")
        }
        return try TestRuntime(binary: binary, plugins: [plugin], pluginConfigs: ["visualization": config])
    }

    static let spec = #"""
    {"title": "Load", "data": {"values": [{"h": "2024-03-01T00:00:00Z", "v": 3}, {"h": "2024-03-01T06:00:00Z", "v": 7}, {"h": "2024-03-01T12:00:00Z", "v": 4}]},
     "mark": "line", "encoding": {"x": {"field": "h", "type": "temporal"}, "y": {"field": "v", "type": "quantitative"}}}
    """#

    func post(_ plexus: TestRuntime, _ path: String, _ body: String) throws -> TestResponse {
        try plexus.request("POST", path, headers: "Content-Type: application/json\r\n", body: Array(body.utf8))
    }

    func problem(_ response: TestResponse, status: Int, path: String, _ fragment: String, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(response.status, status, response.text, file: file, line: line)
        XCTAssertEqual(response.header("Content-Type"), "application/problem+json", file: file, line: line)
        let body = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] ?? [:]
        XCTAssertEqual(body["path"] as? String, path, response.text, file: file, line: line)
        XCTAssertTrue((body["detail"] as? String ?? "").contains(fragment), response.text, file: file, line: line)
    }

    func testRendersEveryFormatThroughTheRoute() throws {
        let plexus = try start()
        let svg = try post(plexus, "/api/v1/visualizations/render?format=svg", Self.spec)
        XCTAssertEqual(svg.status, 200, svg.text)
        XCTAssertEqual(svg.header("Content-Type"), "image/svg+xml")
        XCTAssertTrue(svg.text.contains("class=\"mark-line\""))
        XCTAssertTrue(svg.text.contains(">06:00</text>"), "calendar-aware hour ticks")
        let png = try post(plexus, "/api/v1/visualizations/render?format=png", Self.spec)
        XCTAssertEqual(png.status, 200)
        XCTAssertEqual(png.header("Content-Type"), "image/png")
        XCTAssertEqual(Array(png.body.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
        // IHDR: width and height big-endian at bytes 16...23 (the default 400 x 300).
        XCTAssertEqual(png.body[16..<20].reduce(0) { $0 << 8 | Int($1) }, 400)
        XCTAssertEqual(png.body[20..<24].reduce(0) { $0 << 8 | Int($1) }, 300)
        let pdf = try post(plexus, "/api/v1/visualizations/render?format=pdf", Self.spec)
        XCTAssertEqual(pdf.status, 200)
        XCTAssertTrue(pdf.text.hasPrefix("%PDF-"))
        XCTAssertEqual(try post(plexus, "/api/v1/visualizations/render?format=gif", Self.spec).status, 400)
        XCTAssertEqual(plexus.stop(), 0)
    }

    func testSavedChartsAndDataSetsBelongToTheTenant() throws { try Self.savedChartsAndDataSetsBelongToTheTenant(try start()) }

    /// The scenario, on SQLite here and on PostgreSQL in `VisualizationOnPostgresTests`.
    static func savedChartsAndDataSetsBelongToTheTenant(_ plexus: TestRuntime) throws {
        let helpers = DashboardTests.Helpers()
        let rows = #"[{"k": "a", "v": 1}, {"k": "b", "v": 4}]"#
        let put = try plexus.request("PUT", "/api/v1/visualizations/datasets/sales", headers: "Content-Type: application/json\r\n", body: Array(rows.utf8))
        XCTAssertEqual(put.status, 201, put.text)
        let chart = #"{"data": {"name": "sales"}, "mark": "bar", "encoding": {"x": {"field": "k", "type": "nominal"}, "y": {"field": "v", "type": "quantitative"}}}"#
        let saved = try helpers.post(plexus, "/api/v1/visualizations/charts?id=weekly", chart)
        XCTAssertEqual(saved.status, 201, saved.text)
        XCTAssertEqual(saved.header("Location"), "/api/v1/visualizations/weekly.svg")
        let svg = try plexus.get("/api/v1/visualizations/weekly.svg")
        XCTAssertEqual(svg.status, 200, svg.text)
        XCTAssertEqual(svg.text.components(separatedBy: "class=\"mark-bar\"").count - 1, 2)
        XCTAssertEqual(try plexus.get("/api/v1/visualizations/weekly.png").header("Content-Type"), "image/png")
        XCTAssertEqual(try plexus.get("/api/v1/visualizations/weekly.pdf").header("Content-Type"), "application/pdf")
        XCTAssertEqual(try plexus.get("/api/v1/visualizations/nothing.svg").status, 404)
        // Another tenant sees neither the chart nor the data set.
        plexus.credential = try plexus.createAPIKey(name: "other", tenant: "other")
        XCTAssertEqual(try plexus.get("/api/v1/visualizations/weekly.svg").status, 404)
        try helpers.problem(try helpers.post(plexus, "/api/v1/visualizations/render", chart), status: 422, path: "$.data.name", "no data set named 'sales'")
        XCTAssertEqual(plexus.stop(), 0)
    }

    func testBadInputIsA4xxWithThePath() throws {
        let plexus = try start()
        let render = "/api/v1/visualizations/render"
        try problem(try post(plexus, render, Self.spec.replacingOccurrences(of: "\"line\"", with: "\"sankey\"")), status: 422, path: "$.mark", "unknown mark")
        try problem(try post(plexus, render, Self.spec.replacingOccurrences(of: "\"field\": \"v\"", with: "\"field\": \"w\"")),
                    status: 422, path: "$.encoding.y.field", "'w' is not in the data")
        try problem(try post(plexus, render, Self.spec.replacingOccurrences(of: "\"v\": 7", with: "\"v\": \"NaN\"")),
                    status: 422, path: "$.encoding.y.field", "row 1")
        let evil = Self.spec.replacingOccurrences(of: "\"mark\"", with: "\"transform\": [{\"calculate\": \"require('fs')\", \"as\": \"x\"}], \"mark\"")
        try problem(try post(plexus, render, evil), status: 422, path: "$.transform[0].calculate", "calling 'require' is not allowed")
        var nested = #"{"mark": "point", "encoding": {"x": {"field": "v", "type": "quantitative"}, "y": {"field": "v", "type": "quantitative"}}}"#
        for _ in 0..<8 { nested = #"{"layer": [\#(nested)]}"# }
        try problem(try post(plexus, render, #"{"data": {"values": [{"v": 1}]}, "layer": [\#(nested)]}"#), status: 413,
                    path: "$.layer[0].layer[0].layer[0].layer[0].layer", "deeper")
        let rows = (0..<5001).map { "{\"h\": \($0), \"v\": 1}" }.joined(separator: ",")
        try problem(try post(plexus, render, #"{"data": {"values": [\#(rows)]}, "mark": "line", "encoding": {"x": {"field": "h", "type": "quantitative"}, "y": {"field": "v", "type": "quantitative"}}}"#),
                    status: 413, path: "$.data.values", "limit is 5000")
        try problem(try post(plexus, render, "{\"mark\": "), status: 400, path: "$", "not valid JSON")
        // Grouping offsets where they do not belong, and an unreadable local date in a chart with a time zone.
        let offsetOnLine = Self.spec.replacingOccurrences(of: "\"encoding\": {", with: "\"encoding\": {\"yOffset\": {\"field\": \"v\", \"type\": \"nominal\"}, ")
        try problem(try post(plexus, render, offsetOnLine), status: 422, path: "$.encoding.yOffset", "groups bars")
        let localDate = #"{"timeZone": "Europe/Berlin", "data": {"values": [{"t": "2026-03-29T02:30", "v": 1}, {"t": "29.03.2026", "v": 2}]}, "mark": "line", "encoding": {"x": {"field": "t", "type": "temporal"}, "y": {"field": "v", "type": "quantitative"}}}"#
        try problem(try post(plexus, render, localDate), status: 422, path: "$.encoding.x.field", "row 1")
        // The server still answers after all of it.
        XCTAssertEqual(try post(plexus, render, Self.spec).status, 200)
        XCTAssertEqual(plexus.stop(), 0)
    }

    /// A columnar upload ("PXC1", header length, JSON header, float64 columns little-endian).
    static func columns(_ header: String, _ values: [[Double]]) -> [UInt8] {
        var bytes = Array("PXC1".utf8)
        let length = UInt32(header.utf8.count)
        bytes += (0..<4).map { UInt8(length >> (8 * $0) & 0xFF) }
        bytes += Array(header.utf8)
        for column in values { for value in column { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 } } }
        return bytes
    }

    func testColumnarUploadsRenderAndBadOnesAre4xx() throws {
        let plexus = try start()
        let spec = #"{"mark": "line", "encoding": {"x": {"field": "t", "type": "quantitative"}, "y": {"field": "v", "type": "quantitative"}}}"#
        let t = (0..<3000).map(Double.init), v = t.map { ($0 / 100).squareRoot() }
        let header = #"{"spec": \#(spec), "columns": ["t", "v"], "rows": 3000}"#
        let png = try plexus.request("POST", "/api/v1/visualizations/render?format=png", headers: "Content-Type: application/vnd.plexus.columns\r\n",
                                     body: Self.columns(header, [t, v]))
        XCTAssertEqual(png.status, 200, png.text)
        XCTAssertEqual(png.header("Content-Type"), "image/png")
        let svg = try plexus.request("POST", "/api/v1/visualizations/render", body: Self.columns(header, [t, v]))
        XCTAssertTrue(svg.text.contains("class=\"mark-line\""), svg.text)
        // The row limit (5000 here), a body shorter than the header says, data in the spec.
        let many = (0..<5001).map(Double.init)
        try problem(try plexus.request("POST", "/api/v1/visualizations/render", body: Self.columns(#"{"spec": \#(spec), "columns": ["t"], "rows": 5001}"#, [many])),
                    status: 413, path: "header.rows", "limit is 5000")
        try problem(try plexus.request("POST", "/api/v1/visualizations/render", body: Self.columns(header, [t])), status: 422, path: "header.columns", "need 48000 bytes")
        try problem(try plexus.request("POST", "/api/v1/visualizations/render",
                                       body: Self.columns(#"{"spec": {"data": {"values": []}, "mark": "line"}, "columns": ["t"], "rows": 1}"#, [[1]])),
                    status: 422, path: "header.spec.data", "carries its data in its columns")
        try problem(try plexus.request("POST", "/api/v1/visualizations/render", body: Array("PXC1".utf8) + [9, 9, 9, 9]), status: 400, path: "header", "runs past the body")
        XCTAssertEqual(plexus.stop(), 0)
    }
}
