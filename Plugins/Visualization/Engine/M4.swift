/// M4 reduction of a polyline to the pixel grid (Jugel, Jerzak, Hackenbroich, Markl: "M4: A
/// Visualization-Oriented Time Series Data Aggregation", VLDB 2014).
///
/// Points arrive in pixel coordinates, in drawing order with x never decreasing. Of the points falling in one
/// pixel column (`floor(x)`), only the first, the last, and those with the smallest and largest y are kept, in
/// their original order, so every column keeps its vertical extent and the line keeps every peak. The paper
/// shows this is exact for a line rasterized column by column without antialiasing; cairo antialiases at
/// sub-pixel precision, so the pixels are not the same: `M4Tests` measures them against the whole line (each
/// column's inked extent within two rows; fewer changed pixels than LTTB at two points per column, which the
/// painter used before). One pass, no allocation per point: at most four points per column are written,
/// whatever the size of the series.
struct M4Reducer {
    /// The kept points and the row each came from.
    private(set) var xs: [Double] = []
    private(set) var ys: [Double] = []
    private(set) var rows: [Int] = []

    /// One candidate of the open column: its position, its row and its arrival number.
    private struct Candidate {
        var x = 0.0, y = 0.0, row = 0, order = 0
    }

    private var column = Int.min
    private var first = Candidate(), last = Candidate(), low = Candidate(), high = Candidate()
    private var arrived = 0
    /// The x of the last point added (x must not decrease).
    private(set) var lastX = -Double.infinity

    /// A reducer expecting about `columns` pixel columns.
    init(columns: Int) {
        let capacity = max(4, min(columns, 1 << 20) * 4)
        xs.reserveCapacity(capacity); ys.reserveCapacity(capacity); rows.reserveCapacity(capacity)
    }

    /// Adds the next point; `x` must be at least the previous point's x (``lastX``).
    @inline(__always)
    mutating func add(x: Double, y: Double, row: Int) {
        // A value far outside an explicit scale domain maps far off the canvas (1e300 * slope is
        // inf): such a point cannot be drawn, and its column must not trap converting to Int.
        guard x.isFinite, y.isFinite else { return }
        let at = Int(min(max(x, -1e15), 1e15).rounded(.down))
        let candidate = Candidate(x: x, y: y, row: row, order: arrived)
        arrived += 1
        lastX = x
        if at != column {
            flush()
            column = at
            first = candidate; last = candidate; low = candidate; high = candidate
            return
        }
        last = candidate
        if y < low.y { low = candidate }
        if y > high.y { high = candidate }
    }

    /// The kept points, after closing the last column.
    mutating func finish() -> (xs: [Double], ys: [Double], rows: [Int]) {
        flush()
        column = Int.min
        return (xs, ys, rows)
    }

    /// Writes the open column's distinct candidates in arrival order.
    private mutating func flush() {
        guard column != Int.min else { return }
        // First, then the extremes in arrival order, then last; a point that is two of them is written once.
        let (a, b) = low.order <= high.order ? (low, high) : (high, low)
        var previous = -1
        for candidate in [first, a, b, last] where candidate.order != previous {
            xs.append(candidate.x); ys.append(candidate.y); rows.append(candidate.row)
            previous = candidate.order
        }
    }
}
