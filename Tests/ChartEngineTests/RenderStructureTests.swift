import CCairo
import ChartEngine
import Foundation
import XCTest

/// Renders real charts and checks their structure: SVG elements, ticks, legend entries, PNG size and pixels, PDF pages.
final class RenderStructureTests: XCTestCase {
    static let fonts = try! FontContext()

    func render(_ spec: String, _ format: ChartRenderer.Format) throws -> [UInt8] {
        try ChartRenderer(fonts: Self.fonts).render(json: Array(spec.utf8), as: format)
    }

    func svg(_ spec: String) throws -> String { String(decoding: try render(spec, .svg), as: UTF8.self) }

    /// Text contents of the SVG `<text>` elements of a class.
    func texts(_ svg: String, role: String) -> [String] {
        svg.components(separatedBy: "\n").filter { $0.hasPrefix("<text class=\"\(role)\"") }.map { line in
            let start = line.range(of: ">")!.upperBound, end = line.range(of: "</text>")!.lowerBound
            return String(line[start..<end])
        }
    }

    func count(_ svg: String, role: String) -> Int { svg.components(separatedBy: "class=\"\(role)\"").count - 1 }

    static let groupedBars = """
    {"title": "Sales", "width": 500, "height": 300,
     "data": {"values": [{"q": "Q1", "p": "a", "v": 10}, {"q": "Q1", "p": "b", "v": 20}, {"q": "Q2", "p": "a", "v": 30}, {"q": "Q2", "p": "b", "v": 5}]},
     "mark": "bar", "encoding": {"x": {"field": "q", "type": "nominal"}, "xOffset": {"field": "p", "type": "nominal"},
                                 "y": {"field": "v", "type": "quantitative"}, "color": {"field": "p", "type": "nominal"}}}
    """

    func testGroupedBarsHaveOneRectPerRowNiceTicksAndALegend() throws {
        let out = try svg(Self.groupedBars)
        XCTAssertEqual(count(out, role: "mark-bar"), 4)
        XCTAssertEqual(texts(out, role: "tick-label-x"), ["Q1", "Q2"])
        XCTAssertEqual(texts(out, role: "tick-label-y"), ["0", "5", "10", "15", "20", "25", "30"])
        XCTAssertEqual(texts(out, role: "legend-label"), ["a", "b"])
        XCTAssertEqual(texts(out, role: "title"), ["Sales"])
        XCTAssertTrue(out.contains("fill=\"#0072B2\"") && out.contains("fill=\"#E69F00\""), "Okabe–Ito palette")
    }

    func testStackedBarsStackToTheSum() throws {
        let spec = Self.groupedBars.replacingOccurrences(of: "\"xOffset\": {\"field\": \"p\", \"type\": \"nominal\"},", with: "")
        let out = try svg(spec)
        XCTAssertEqual(count(out, role: "mark-bar"), 4)
        // Q1 stacks to 30 and Q2 to 35: the y domain is niced to 0...35 or 40.
        XCTAssertTrue(["35", "40"].contains(texts(out, role: "tick-label-y").last!), "\(texts(out, role: "tick-label-y"))")
    }

    func testTimeAxisTicksFallOnMonthBoundaries() throws {
        var rows: [String] = []
        for day in 0..<120 { rows.append("{\"t\": \(Double(day) * 86_400_000 + 1_704_067_200_000), \"v\": \(day % 7)}") }
        let spec = """
        {"width": 600, "data": {"values": [\(rows.joined(separator: ","))]}, "mark": "line",
         "encoding": {"x": {"field": "t", "type": "temporal"}, "y": {"field": "v", "type": "quantitative"}}}
        """
        let labels = texts(try svg(spec), role: "tick-label-x")
        XCTAssertEqual(labels, ["2024", "Feb", "Mar", "Apr"])
    }

    func testLargeLineIsDownsampledToThePixelWidth() throws {
        let n = 200_000
        var json = "{\"width\": 400, \"height\": 200, \"data\": {\"values\": ["
        for i in 0..<n { json += (i == 0 ? "" : ",") + "{\"x\": \(i), \"y\": \(sin(Double(i) / 1000))}" }
        json += "]}, \"mark\": \"line\", \"encoding\": {\"x\": {\"field\": \"x\", \"type\": \"quantitative\"}, \"y\": {\"field\": \"y\", \"type\": \"quantitative\"}}}"
        let out = try svg(json)
        let path = out.components(separatedBy: "\n").first { $0.hasPrefix("<path class=\"mark-line\"") }!
        let points = path.components(separatedBy: "L").count
        XCTAssertLessThanOrEqual(points, 2 * 400)
        XCTAssertGreaterThan(points, 300)
    }

    func testPNGHasTheSizeAndTheBarColours() throws {
        let png = try render(Self.groupedBars, .png)
        XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        let image = try PNGImage(png)
        XCTAssertEqual(image.width, 500)
        XCTAssertEqual(image.height, 300)
        // Q2/a is the tallest bar (30): sample inside it, near the x axis; and the white background corner.
        let out = try svg(Self.groupedBars)
        let bar = out.components(separatedBy: "\n").filter { $0.hasPrefix("<rect class=\"mark-bar\"") }[2]
        func attr(_ name: String) -> Double { Double(bar.components(separatedBy: "\(name)=\"")[1].prefix { $0 != "\"" })! }
        let px = Int(attr("x") + attr("width") / 2), py = Int(attr("y") + attr("height") - 3)
        XCTAssertEqual(image.rgb(px, py), (0x00, 0x72, 0xB2))
        XCTAssertEqual(image.rgb(2, 2), (0xFF, 0xFF, 0xFF))
    }

    func testPDFHasOnePageAndEmbedsDejaVu() throws {
        let pdf = try render(Self.groupedBars, .pdf)
        let text = String(decoding: pdf, as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("%PDF-"))
        XCTAssertEqual(text.components(separatedBy: "/Type /Page\n").count + text.components(separatedBy: "/Type /Page ").count - 2 >= 1, true)
        XCTAssertEqual(text.components(separatedBy: "/Count 1").count - 1, 1, "one page")
        XCTAssertTrue(text.contains("DejaVuSans"), "the shipped font is embedded")
    }

    func testEveryMarkRenders() throws {
        let data = #"{"values": [{"a": "x", "b": "p", "v": 3}, {"a": "y", "b": "q", "v": 5}, {"a": "z", "b": "p", "v": 2}]}"#
        let cases: [(String, String, String)] = [
            ("point", #"{"x": {"field": "a", "type": "nominal"}, "y": {"field": "v", "type": "quantitative"}, "size": {"field": "v", "type": "quantitative"}}"#, "mark-point"),
            ("rect", #"{"x": {"field": "a", "type": "nominal"}, "y": {"field": "b", "type": "nominal"}, "color": {"field": "v", "type": "quantitative"}}"#, "mark-rect"),
            ("arc", #"{"theta": {"field": "v", "type": "quantitative"}, "color": {"field": "a", "type": "nominal"}}"#, "mark-arc"),
            ("area", #"{"x": {"field": "a", "type": "ordinal"}, "y": {"field": "v", "type": "quantitative"}}"#, "mark-area"),
            ("text", #"{"x": {"field": "a", "type": "nominal"}, "y": {"field": "v", "type": "quantitative"}, "text": {"field": "b", "type": "nominal"}}"#, "mark-text"),
            ("rule", #"{"y": {"field": "v", "type": "quantitative"}}"#, "mark-rule"),
        ]
        for (mark, encoding, role) in cases {
            let out = try svg(#"{"data": \#(data), "mark": "\#(mark)", "encoding": \#(encoding)}"#)
            XCTAssertGreaterThan(count(out, role: role), 0, mark)
            for format in [ChartRenderer.Format.png, .pdf] {
                XCTAssertGreaterThan(try render(#"{"data": \#(data), "mark": "\#(mark)", "encoding": \#(encoding)}"#, format).count, 100)
            }
        }
    }

    func testTransformsFeedTheMarks() throws {
        let spec = #"""
        {"data": {"values": [{"k": "a", "m": 1, "n": 2}, {"k": "b", "m": 3, "n": 4}, {"k": "c", "m": -1, "n": 0}]},
         "transform": [{"filter": "datum.m > 0"}, {"calculate": "datum.m * 10", "as": "m10"}, {"fold": ["m10", "n"], "as": ["series", "val"]},
                       {"window": [{"op": "sum", "field": "val", "as": "running"}], "groupby": ["series"], "sort": [{"field": "k"}]}],
         "mark": "bar", "encoding": {"x": {"field": "k", "type": "nominal"}, "y": {"field": "running", "type": "quantitative", "aggregate": "max"},
                                     "color": {"field": "series", "type": "nominal"}}}
        """#
        let out = try svg(spec)
        XCTAssertEqual(texts(out, role: "tick-label-x"), ["a", "b"])
        XCTAssertEqual(texts(out, role: "legend-label"), ["m10", "n"])
        XCTAssertEqual(count(out, role: "mark-bar"), 4)
    }
}

/// A decoded PNG (through cairo), for pixel checks.
struct PNGImage {
    let width: Int, height: Int
    private let pixels: [UInt32]

    init(_ bytes: [UInt8]) throws {
        final class Reader { var bytes: [UInt8]; var offset = 0; init(_ b: [UInt8]) { bytes = b } }
        let reader = Reader(bytes)
        let read: cairo_read_func_t = { closure, data, length in
            let r = Unmanaged<Reader>.fromOpaque(closure!).takeUnretainedValue()
            guard r.offset + Int(length) <= r.bytes.count else { return CAIRO_STATUS_READ_ERROR }
            for i in 0..<Int(length) { data![i] = r.bytes[r.offset + i] }
            r.offset += Int(length)
            return CAIRO_STATUS_SUCCESS
        }
        let surface = withExtendedLifetime(reader) { cairo_image_surface_create_from_png_stream(read, Unmanaged.passUnretained(reader).toOpaque()) }
        defer { cairo_surface_destroy(surface) }
        guard cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS else { throw NSError(domain: "png", code: 1) }
        width = Int(cairo_image_surface_get_width(surface))
        height = Int(cairo_image_surface_get_height(surface))
        let stride = Int(cairo_image_surface_get_stride(surface))
        let data = cairo_image_surface_get_data(surface)!
        var pixels: [UInt32] = []
        for y in 0..<height {
            for x in 0..<width { pixels.append(data.advanced(by: y * stride + x * 4).withMemoryRebound(to: UInt32.self, capacity: 1) { $0.pointee }) }
        }
        self.pixels = pixels
    }

    func rgb(_ x: Int, _ y: Int) -> (Int, Int, Int) {
        let p = pixels[y * width + x]
        return (Int(p >> 16 & 0xFF), Int(p >> 8 & 0xFF), Int(p & 0xFF))
    }
}

func XCTAssertEqual(_ a: (Int, Int, Int), _ b: (Int, Int, Int), file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertTrue(a == b, "\(a) != \(b)", file: file, line: line)
}
