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
        let xs = view.column(.x), ys = view.numbers(.y)
        let baseline = y.position(0)
        for (color, rows) in series() {
            var points: [(Double, Double, Int)] = []
            points.reserveCapacity(rows.count)
            for row in rows {
                let top = view.stack?.top[row] ?? ys[row]
                guard let px = x.center(xs[row]), !top.isNaN else { continue }
                points.append((px, y.position(top), row))
            }
            // Rows usually arrive in x order: sort only when they do not.
            if !x.isBand, zip(points, points.dropFirst()).contains(where: { $0.0 > $1.0 }) { points.sort { $0.0 < $1.0 } }
            // Largest-Triangle-Three-Buckets down to two points per pixel column.
            let threshold = max(3, Int(layout.plot.width * 2))
            let kept = LTTB.downsample(xs: points.map(\.0), ys: points.map(\.1), threshold: threshold)
            let line = kept.map { Point(points[$0].0, points[$0].1) }
            guard !line.isEmpty else { continue }
            if view.mark.type == .line {
                scene.items.append(.polyline(line, closed: false, paint: Paint(stroke: color, strokeWidth: view.mark.strokeWidth ?? 1.5, opacity: opacity), role: "mark-line"))
            } else {
                let bottoms = kept.map { k -> Point in
                    let row = points[k].2
                    return Point(points[k].0, view.stack.map { y.position($0.bottom[row]) } ?? baseline)
                }
                scene.items.append(.polyline(line + bottoms.reversed(), closed: true, paint: Paint(fill: color, opacity: view.mark.opacity ?? 0.7), role: "mark-area"))
            }
        }
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
        let ys = view.column(.y), xs = view.numbers(.x)
        for row in 0..<view.table.count {
            guard let band = y.band(ys[row].text) else { continue }
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
