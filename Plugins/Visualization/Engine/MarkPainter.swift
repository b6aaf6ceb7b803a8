import Foundation

/// Draws one view's marks with the shared scales.
struct MarkPainter {
    let view: PreparedView
    let layout: Layout
    private let tooltips: MarkTooltips

    init(view: PreparedView, layout: Layout) {
        self.view = view
        self.layout = layout
        tooltips = MarkTooltips(view: view, clock: layout.clock)
    }

    /// Attaches the row's tooltip to the item just drawn.
    private func tooltip(_ row: Int, into scene: inout Scene) {
        guard !tooltips.isEmpty, !scene.items.isEmpty else { return }
        scene.tooltips[scene.items.count - 1] = tooltips.text(row)
    }

    private var baseColor: String { view.mark.color ?? Colors.categorical[0] }
    private var opacity: Double { view.mark.opacity ?? 1 }

    private func color(_ row: Int) -> String {
        guard let scale = layout.color, view.fields[.color] != nil else { return baseColor }
        return scale.color(view.column(.color)[row])
    }

    func paint(into scene: inout Scene) {
        switch view.mark.type {
        case .line, .area: paintSeries(into: &scene)
        case .bar: paintBars(into: &scene)
        case .point, .text: paintPoints(into: &scene)
        case .rect: paintRects(into: &scene)
        case .arc: paintArcs(into: &scene)
        case .rule: paintRules(into: &scene)
        }
    }

    /// Rows grouped by colour value, in legend order.
    private func series() -> [(color: String, rows: [Int])] {
        guard view.fields[.color] != nil else { return [(baseColor, Array(0..<view.table.count))] }
        return TransformRunner.groups(view.table, by: [view.fields[.color]!]).map { (color($0.rows[0]), $0.rows) }
    }

    private func paintSeries(into scene: inout Scene) {
        guard let x = layout.x, let y = layout.y else { return }
        let columns = Int(layout.plot.width.rounded(.up)) + 2
        let groups: [(color: String, rows: [Int])?] = view.fields[.color] == nil ? [nil] : series()
        for group in groups {
            let reduced = group.map { reducedSeries($0.rows, x, y, columns: columns) } ?? reducedSeries(0..<view.table.count, x, y, columns: columns)
            guard !reduced.xs.isEmpty else { continue }
            let color = group?.color ?? baseColor
            let line = zip(reduced.xs, reduced.ys).map { Point($0, $1) }
            if view.mark.type == .line {
                scene.items.append(.polyline(line, closed: false, paint: Paint(stroke: color, strokeWidth: view.mark.strokeWidth ?? 1.5, opacity: opacity), role: "mark-line"))
            } else {
                let baseline = y.position(0)
                let bottoms = zip(reduced.xs, reduced.rows).map { px, row in Point(px, view.stack.map { y.position($0.bottom[row]) } ?? baseline) }
                scene.items.append(.polyline(line + bottoms.reversed(), closed: true, paint: Paint(fill: color, opacity: view.mark.opacity ?? 0.7), role: "mark-area"))
            }
            hoverTargets(reduced, into: &scene)
        }
    }

    /// The most hover targets one line or area series gets (a dense series keeps every n-th reduced point).
    static let maxHoverTargets = 500

    /// A line or area is one shape for many rows, so its tooltips ride on invisible circles at its points
    /// (role `mark-hover`, each with the row's tooltip; PNG and PDF skip them): every point of a short series,
    /// evenly spaced ones of a long series, at most ``maxHoverTargets``.
    private func hoverTargets(_ series: (xs: [Double], ys: [Double], rows: [Int]), into scene: inout Scene) {
        guard !tooltips.isEmpty, !series.xs.isEmpty else { return }
        let step = (series.xs.count + Self.maxHoverTargets - 1) / Self.maxHoverTargets
        let spacing = (series.xs.last! - series.xs.first!) / Double(max(1, series.xs.count / step))
        let radius = min(8, max(3, spacing / 2))
        for index in stride(from: 0, to: series.xs.count, by: step) {
            scene.items.append(.circle(center: Point(series.xs[index], series.ys[index]), radius: radius, paint: Paint(fill: "#000000", opacity: 0), role: "mark-hover"))
            tooltip(series.rows[index], into: &scene)
        }
    }

    /// The series of `rows` in pixels, in x order, reduced by M4 to at most four points per pixel column.
    /// Rows usually arrive in x order and are reduced as they are read (one pass, nothing the size of the
    /// data allocated); rows out of order are collected, sorted and reduced.
    private func reducedSeries<Rows: Collection>(_ rows: Rows, _ x: PositionScale, _ y: PositionScale, columns: Int) -> (xs: [Double], ys: [Double], rows: [Int]) where Rows.Element == Int {
        let tops = view.stack?.top ?? view.numbers(.y)
        let (ySlope, yIntercept) = y.linear ?? (0, 0)
        // Plain-number x (a columnar upload) is read without unboxing its cells.
        let xNumbers = x.isBand ? nil : view.numberColumn(.x), xValues = xNumbers == nil ? view.column(.x) : []
        let xLine = x.linear ?? (0, 0)
        // A point far off the canvas (a value far outside an explicit domain) is drawn at a bounded
        // distance beyond its edge: the reduction and the strips then never span an unbounded range.
        let reach = Double(max(columns, 1)) * 4 + 1_000
        @inline(__always) func pixel(_ row: Int) -> Double? {
            let px: Double?
            if let xNumbers { let v = xNumbers[row]; px = v.isNaN ? nil : v * xLine.slope + xLine.intercept }
            else { px = x.center(xValues[row]) }
            guard let px, !px.isNaN else { return nil }
            return min(max(px, -reach), reach)
        }
        var reducer = M4Reducer(columns: columns)
        for row in rows {
            let top = tops[row]
            guard !top.isNaN, let px = pixel(row) else { continue }
            guard px >= reducer.lastX else { return sortedSeries(rows, tops, pixel, y, columns: columns) }
            reducer.add(x: px, y: top * ySlope + yIntercept, row: row)
        }
        return reducer.finish()
    }

    /// The slow way for rows out of x order: positions collected, sorted (stably), then reduced.
    private func sortedSeries<Rows: Collection>(_ rows: Rows, _ tops: [Double], _ pixel: (Int) -> Double?, _ y: PositionScale, columns: Int) -> (xs: [Double], ys: [Double], rows: [Int]) where Rows.Element == Int {
        var points: [(x: Double, row: Int)] = []
        points.reserveCapacity(rows.count)
        for row in rows where !tops[row].isNaN { if let px = pixel(row) { points.append((px, row)) } }
        points = points.enumerated().sorted { ($0.element.x, $0.offset) < ($1.element.x, $1.offset) }.map(\.element)
        var reducer = M4Reducer(columns: columns)
        for point in points { reducer.add(x: point.x, y: y.position(tops[point.row]), row: point.row) }
        return reducer.finish()
    }

    private func paintBars(into scene: inout Scene) {
        guard let x = layout.x, let y = layout.y else { return }
        if view.horizontal { return paintHorizontalBars(x, y, into: &scene) }
        let xs = view.column(.x), ys = view.numbers(.y), x2 = view.numbers(.x2), offsets = view.column(.xOffset)
        let continuousWidth = max(1, layout.plot.width / Double(max(1, view.table.count)) * 0.8)
        for row in 0..<view.table.count {
            var left: Double, width: Double
            if let band = x.band(xs[row].text) {
                (left, width) = band
                if !offsets.isEmpty, let slot = layout.xOffset.firstIndex(of: offsets[row].text) {
                    width /= Double(layout.xOffset.count)
                    left += width * Double(slot)
                }
            } else if let start = x.center(xs[row]) {
                if !x2.isEmpty, !x2[row].isNaN { (left, width) = (start, max(1, x.position(x2[row]) - start - 1)) }
                else { (left, width) = (start - continuousWidth / 2, continuousWidth) }
            } else { continue }
            let (bottom, top) = view.stack.map { ($0.bottom[row], $0.top[row]) } ?? (0, ys[row])
            guard !top.isNaN else { continue }
            let (p0, p1) = (y.position(bottom), y.position(top))
            scene.items.append(.rect(x: left, y: min(p0, p1), width: width, height: abs(p1 - p0), paint: Paint(fill: color(row), opacity: opacity), role: "mark-bar"))
            tooltip(row, into: &scene)
        }
    }

    /// Bars along x from zero (or their stack bottom) in the band of their y category.
    private func paintHorizontalBars(_ x: PositionScale, _ y: PositionScale, into scene: inout Scene) {
        let ys = view.column(.y), xs = view.numbers(.x), offsets = view.column(.yOffset)
        for row in 0..<view.table.count {
            guard var band = y.band(ys[row].text) else { continue }
            // Grouped: the band splits into one slot per yOffset value, in the same order in every band.
            if !offsets.isEmpty, let slot = layout.yOffset.firstIndex(of: offsets[row].text) {
                band.width /= Double(layout.yOffset.count)
                band.start += band.width * Double(slot)
            }
            let (start, end) = view.stack.map { ($0.bottom[row], $0.top[row]) } ?? (0, xs[row])
            guard !end.isNaN else { continue }
            let (p0, p1) = (x.position(start), x.position(end))
            scene.items.append(.rect(x: min(p0, p1), y: band.start, width: abs(p1 - p0), height: band.width, paint: Paint(fill: color(row), opacity: opacity), role: "mark-bar"))
            tooltip(row, into: &scene)
        }
    }

    private func paintPoints(into scene: inout Scene) {
        guard let x = layout.x, let y = layout.y else { return }
        let xs = view.column(.x), ys = view.column(.y), sizes = view.numbers(.size), texts = view.column(.text)
        let sizeMax = sizes.filter { !$0.isNaN }.max() ?? 1
        for row in 0..<view.table.count {
            guard let px = x.center(xs[row]), let py = y.center(ys[row]) else { continue }
            if view.mark.type == .text {
                let label = texts.isEmpty ? (view.encoding[.text]?.value.map { DataValue($0).text } ?? "") : texts[row].text
                scene.items.append(.text(label, at: Point(px, py + 4), size: 11, color: color(row), anchor: .middle, angle: 0, bold: false, role: "mark-text"))
                tooltip(row, into: &scene)
            } else {
                let area = sizes.isEmpty ? (view.mark.size ?? 30) : 10 + 190 * (sizes[row].isNaN ? 0 : sizes[row] / sizeMax)
                scene.items.append(.circle(center: Point(px, py), radius: (area / .pi).squareRoot(), paint: Paint(fill: color(row), opacity: view.mark.opacity ?? 0.8), role: "mark-point"))
                tooltip(row, into: &scene)
            }
        }
    }

    private func paintRects(into scene: inout Scene) {
        guard let x = layout.x, let y = layout.y else { return }
        let xs = view.column(.x), ys = view.column(.y)
        for row in 0..<view.table.count {
            guard let bx = x.band(xs[row].text), let by = y.band(ys[row].text) else { continue }
            scene.items.append(.rect(x: bx.start, y: by.start, width: bx.width, height: by.width, paint: Paint(fill: color(row), opacity: opacity), role: "mark-rect"))
            tooltip(row, into: &scene)
        }
    }

    private func paintArcs(into scene: inout Scene) {
        let thetas = view.numbers(.theta).map { $0.isNaN ? 0 : max(0, $0) }
        let total = thetas.reduce(0, +)
        guard total > 0 else { return }
        let center = Point(layout.plot.x + layout.plot.width / 2, layout.plot.y + layout.plot.height / 2)
        let outer = min(layout.plot.width, layout.plot.height) / 2 - 4
        var angle = -Double.pi / 2
        for (row, theta) in thetas.enumerated() where theta > 0 {
            let sweep = theta / total * 2 * .pi
            scene.items.append(.wedge(center: center, inner: min(outer * 0.9, view.mark.innerRadius ?? 0), outer: outer, start: angle, end: angle + sweep,
                                      paint: Paint(fill: color(row), stroke: "#FFFFFF", opacity: opacity), role: "mark-arc"))
            tooltip(row, into: &scene)
            angle += sweep
        }
    }

    private func paintRules(into scene: inout Scene) {
        let p = layout.plot
        let stroke = Paint(stroke: baseColor, strokeWidth: view.mark.strokeWidth ?? 1, opacity: opacity)
        let xs = view.encoding[.x].map { def in def.value.map { [DataValue($0)] } ?? view.column(.x) } ?? []
        let ys = view.encoding[.y].map { def in def.value.map { [DataValue($0)] } ?? view.column(.y) } ?? []
        if let y = layout.y, view.encoding[.x] == nil {
            for value in ys { if let py = y.center(value) { scene.items.append(.polyline([Point(p.x, py), Point(p.x + p.width, py)], closed: false, paint: stroke, role: "mark-rule")) } }
        } else if let x = layout.x, view.encoding[.y] == nil {
            for value in xs { if let px = x.center(value) { scene.items.append(.polyline([Point(px, p.y), Point(px, p.y + p.height)], closed: false, paint: stroke, role: "mark-rule")) } }
        }
    }
}
