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

    func testLowestBeforeHighestKeepsArrivalOrder() {
        var reducer = M4Reducer(columns: 1)
        for (index, y) in [3.0, 1.0, 8.0, 2.0].enumerated() { reducer.add(x: 0.2 * Double(index), y: y, row: index) }
        XCTAssertEqual(reducer.finish().rows, [0, 1, 2, 3])
    }

    /// The pixels of a dense noisy line drawn whole and drawn through its M4 points: the same, save
    /// antialiasing rounding; the same number of points picked evenly (every n-th) is visibly different,
    /// so the comparison can tell.
    func testReducedLineDrawsTheSamePixelsAsTheWholeLine() throws {
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
        let step = count / kept.rows.count
        let every = try pixels(stride(from: 0, to: count, by: step).map { Point(xs[$0], ys[$0]) }, width: width, height: height)

        let m4 = difference(whole, reduced), naive = difference(whole, every)
        // Inked pixels of the whole line, for scale.
        let inked = whole.filter { $0 < 200 }.count
        XCTAssertGreaterThan(inked, 5_000)
        XCTAssertEqual(m4.changed, 0, "M4 changes no pixel by more than a quarter of its range (max difference \(m4.max))")
        XCTAssertLessThanOrEqual(m4.max, 40, "antialiasing rounding only")
        XCTAssertGreaterThan(naive.changed, 200, "every \(step)th point loses the extremes: \(naive.changed) pixels change")
    }

    /// The green channel of `line` stroked 1 px wide in black on white with cairo, as the renderer strokes lines.
    private func pixels(_ line: [Point], width: Int, height: Int) throws -> [UInt8] {
        var scene = Scene(width: Double(width), height: Double(height))
        scene.items.append(.polyline(line, closed: false, paint: Paint(stroke: "#000000", strokeWidth: 1), role: "mark-line"))
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
