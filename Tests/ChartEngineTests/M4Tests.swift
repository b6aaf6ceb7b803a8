import CCairo
@testable import ChartEngine
import XCTest

/// M4, the reduction of dense lines and areas to the pixel grid: what it keeps, and that cairo draws the
/// reduced line with the same pixels as the whole one.
final class M4Tests: XCTestCase {
    func testKeepsFirstLastLowestAndHighestOfEachColumnInOrder() {
        var reducer = M4Reducer(columns: 4)
        // Column 0: five points; column 1: one point; column 3: two points.
        for (x, y, row) in [(0.1, 5.0, 0), (0.3, 9.0, 1), (0.5, 1.0, 2), (0.7, 4.0, 3), (0.9, 6.0, 4), (1.5, 2.0, 5), (3.0, 7.0, 6), (3.2, 7.5, 7)] {
            reducer.add(x: x, y: y, row: row)
        }
        let kept = reducer.finish()
        XCTAssertEqual(kept.rows, [0, 1, 2, 4, 5, 6, 7], "first 0, highest 1, lowest 2, last 4; one point once; first and last")
        XCTAssertEqual(kept.ys, [5, 9, 1, 6, 2, 7, 7.5])
    }

    func testPointsFarOffTheCanvasAreSkippedOrGroupedNotATrap() throws {
        var reducer = M4Reducer(columns: 4)
        reducer.add(x: 0.5, y: 1, row: 0)
        reducer.add(x: 1e300, y: 2, row: 1)
        reducer.add(x: .infinity, y: 3, row: 2)
        reducer.add(x: .nan, y: 4, row: 3)
        XCTAssertEqual(reducer.finish().rows, [0, 1], "a finite point far away is kept; inf and NaN cannot be drawn")
        // Through the renderer: a line whose explicit x domain is far narrower than its data, dense
        // enough to be reduced (over 256 points), as PNG and SVG.
        let values = (0..<600).map { "{\"x\": \($0 == 300 ? "1e300" : String($0)), \"y\": \($0 % 7)}" }.joined(separator: ",")
        let spec = #"{"mark": "line", "width": 200, "height": 100, "data": {"values": ["# + values + #"]}, "encoding": {"x": {"field": "x", "type": "quantitative", "scale": {"domain": [0, 1]}}, "y": {"field": "y", "type": "quantitative"}}}"#
        XCTAssertFalse(try Charts.render(spec, .png).isEmpty)
        XCTAssertFalse(try Charts.render(spec, .svg).isEmpty)
    }

    func testLowestBeforeHighestKeepsArrivalOrder() {
        var reducer = M4Reducer(columns: 1)
        for (index, y) in [3.0, 1.0, 8.0, 2.0].enumerated() { reducer.add(x: 0.2 * Double(index), y: y, row: index) }
        XCTAssertEqual(reducer.finish().rows, [0, 1, 2, 3])
    }

    /// A dense noisy line (about 100 points per pixel column) drawn whole and drawn through its M4 points:
    /// every pixel column keeps its inked extent (the first and last inked row, within two rows), and fewer
    /// pixels change than with LTTB at two points per column (what the painter drew before) or every n-th
    /// point at M4's count. Not the same pixels: cairo antialiases at sub-pixel precision, and the whole line
    /// sweeps each column's width where M4's few segments cross it at a few places (some edge pixels of a
    /// column's span come out lighter); LTTB at M4's count changes fewer pixels on this data, but drops
    /// extremes and needs the whole series in memory.
    func testReducedLineKeepsEachColumnsExtentAndChangesFarFewerPixels() throws {
        let width = 300, height = 200, count = 30_000
        var state: UInt64 = 12345
        func noise() -> Double { state = state &* 6364136223846793005 &+ 1442695040888963407; return Double(state >> 11) / Double(1 << 53) }
        var xs: [Double] = [], ys: [Double] = []
        for i in 0..<count {
            xs.append(10 + Double(i) / Double(count) * Double(width - 20))
            ys.append(100 + 60 * sin(Double(i) / 900) + 25 * (noise() - 0.5) + (i % 5000 == 0 ? 35 : 0))
        }
        var reducer = M4Reducer(columns: width)
        for i in 0..<count { reducer.add(x: xs[i], y: ys[i], row: i) }
        let kept = reducer.finish()
        XCTAssertLessThanOrEqual(kept.rows.count, 4 * width)
        XCTAssertGreaterThan(kept.rows.count, 2 * (width - 20))

        let whole = try pixels(zip(xs, ys).map { Point($0, $1) }, width: width, height: height)
        let reduced = try pixels(zip(kept.xs, kept.ys).map { Point($0, $1) }, width: width, height: height)
        let lttb = try pixels(LTTB.downsample(xs: xs, ys: ys, threshold: 2 * (width - 20)).map { Point(xs[$0], ys[$0]) }, width: width, height: height)
        let step = count / kept.rows.count
        let every = try pixels(stride(from: 0, to: count, by: step).map { Point(xs[$0], ys[$0]) }, width: width, height: height)

        // Each pixel column's inked extent (inside the line's own columns): the same within two rows.
        func extents(_ image: [UInt8]) -> [(Int, Int)?] {
            (0..<width).map { x in
                let inked = (0..<height).filter { image[$0 * width + x] < 128 }
                return inked.isEmpty ? nil : (inked.first!, inked.last!)
            }
        }
        for (x, (a, b)) in zip(extents(whole), extents(reduced)).enumerated() where (11..<(width - 11)).contains(x) {
            XCTAssertEqual(a == nil, b == nil, "column \(x)")
            guard let a, let b else { continue }
            XCTAssertLessThanOrEqual(abs(a.0 - b.0), 2, "column \(x): top")
            XCTAssertLessThanOrEqual(abs(a.1 - b.1), 2, "column \(x): bottom")
        }
        let inked = whole.filter { $0 < 128 }.count
        let m4 = difference(whole, reduced), byLTTB = difference(whole, lttb), naive = difference(whole, every)
        print("M4Tests: \(kept.rows.count) of \(count) points; inked \(inked); pixels changed by more than 64 levels: M4 \(m4.changed) (max \(m4.max)), LTTB at 2 per column \(byLTTB.changed), every \(step)th \(naive.changed)")
        XCTAssertGreaterThan(inked, 5_000)
        XCTAssertLessThan(m4.changed, byLTTB.changed, "M4 changes fewer pixels than LTTB at two points per column")
        XCTAssertLessThan(m4.changed * 2, naive.changed, "and under half of what every n-th point does")
    }

    /// A dense line is stroked in clipped strips (``CairoRenderer``); the pixels are those of one stroke of the
    /// whole line, drawn here with cairo directly, within 8 of 255 levels (cairo's scan converter rounds the
    /// edges of a strip's polygon a little differently from the whole line's).
    func testStripsDrawTheSamePixelsAsOneStroke() throws {
        let width = 400, height = 300
        // A zig-zag denser than the pixels, crossing itself, with a gap (one long segment over many strips).
        var line: [Point] = []
        for i in 0..<2400 where !(1000..<1400).contains(i) {
            line.append(Point(5 + Double(i) * 0.16, 150 + 120 * sin(Double(i) * 1.3) * (i % 3 == 0 ? 1 : 0.4)))
        }
        XCTAssertGreaterThan(line.count, CairoRenderer.stripThreshold)
        let strips = try pixels(line, width: width, height: height, strokeWidth: 1.5)
        let surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32(width), Int32(height))
        defer { cairo_surface_destroy(surface) }
        let cr = cairo_create(surface)
        cairo_set_source_rgb(cr, 1, 1, 1)
        cairo_paint(cr)
        cairo_set_source_rgb(cr, 0, 0, 0)
        cairo_set_line_width(cr, 1.5)
        cairo_set_line_join(cr, CAIRO_LINE_JOIN_BEVEL)
        cairo_move_to(cr, line[0].x, line[0].y)
        for point in line.dropFirst() { cairo_line_to(cr, point.x, point.y) }
        cairo_stroke(cr)
        cairo_destroy(cr)
        cairo_surface_flush(surface)
        let stride = Int(cairo_image_surface_get_stride(surface))
        let data = try XCTUnwrap(cairo_image_surface_get_data(surface))
        var whole: [UInt8] = []
        for y in 0..<height { for x in 0..<width { whole.append(data[y * stride + x * 4 + 1]) } }
        let diff = difference(whole, strips)
        XCTAssertGreaterThan(whole.filter { $0 < 128 }.count, 10_000, "the line inks the image")
        XCTAssertLessThanOrEqual(diff.max, 8, "the same pixels save cairo's rounding (at most 8 of 255 levels)")
    }

    /// The green channel of `line` stroked (1 px wide unless told) in black on white by the renderer.
    private func pixels(_ line: [Point], width: Int, height: Int, strokeWidth: Double = 1) throws -> [UInt8] {
        var scene = Scene(width: Double(width), height: Double(height))
        scene.items.append(.polyline(line, closed: false, paint: Paint(stroke: "#000000", strokeWidth: strokeWidth), role: "mark-line"))
        let surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32(width), Int32(height))
        defer { cairo_surface_destroy(surface) }
        RenderStructureTests.fonts.lock.lock()
        defer { RenderStructureTests.fonts.lock.unlock() }
        try CairoRenderer(fonts: RenderStructureTests.fonts).draw(scene, on: surface, scale: 1)
        cairo_surface_flush(surface)
        let stride = Int(cairo_image_surface_get_stride(surface))
        let data = try XCTUnwrap(cairo_image_surface_get_data(surface))
        var out: [UInt8] = []
        for y in 0..<height { for x in 0..<width { out.append(data[y * stride + x * 4 + 1]) } }
        return out
    }

    /// Pixels differing by more than 64 levels, and the largest difference.
    private func difference(_ a: [UInt8], _ b: [UInt8]) -> (changed: Int, max: Int) {
        var changed = 0, largest = 0
        for (p, q) in zip(a, b) {
            let d = abs(Int(p) - Int(q))
            largest = max(largest, d)
            if d > 64 { changed += 1 }
        }
        return (changed, largest)
    }
}
