import Foundation

/// Axes (domain line, ticks, labels, grid, title) and the colour legend.
extension Layout {
    static let axisColor = "#888888", gridColor = "#E4E4E4", labelColor = "#333333"

    func drawAxes(into scene: inout Scene) {
        let bottom = plot.y + plot.height, right = plot.x + plot.width
        if let y, let def = yDef, let axis = def.axis {
            let format = try? axis.format.map { f throws(ChartError) in try NumberFormat(pattern: f, path: "") }
            for tick in y.ticks(count: axis.tickCount ?? max(2, Int(plot.height / 40)), format: format ?? nil, clock: clock) {
                if !y.isBand {
                    scene.items.append(.polyline([Point(plot.x, tick.position), Point(right, tick.position)], closed: false,
                                                 paint: Paint(stroke: Self.gridColor), role: "grid-y"))
                }
                scene.items.append(.polyline([Point(plot.x - 5, tick.position), Point(plot.x, tick.position)], closed: false,
                                             paint: Paint(stroke: Self.axisColor), role: "tick-y"))
                scene.items.append(.text(tick.label, at: Point(plot.x - 8, tick.position + 4), size: 10, color: Self.labelColor,
                                         anchor: .end, angle: 0, bold: false, role: "tick-label-y"))
            }
            scene.items.append(.polyline([Point(plot.x, plot.y), Point(plot.x, bottom)], closed: false, paint: Paint(stroke: Self.axisColor), role: "domain-y"))
            if let title = axis.title ?? def.title ?? Self.defaultTitle(def) {
                scene.items.append(.text(title, at: Point(14, plot.y + plot.height / 2), size: 11, color: Self.labelColor,
                                         anchor: .middle, angle: -90, bold: true, role: "axis-title-y"))
            }
        }
        if let x, let def = xDef, let axis = def.axis {
            let format = try? axis.format.map { f throws(ChartError) in try NumberFormat(pattern: f, path: "") }
            var ticks = x.ticks(count: axis.tickCount ?? max(2, Int(plot.width / 80)), format: format ?? nil, clock: clock)
            if x.isBand, ticks.count > Int(plot.width / 14) {
                let every = Int((Double(ticks.count) / (plot.width / 14)).rounded(.up))
                ticks = ticks.enumerated().filter { $0.offset % every == 0 }.map(\.element)
            }
            let angle = axis.labelAngle ?? (x.isBand && ticks.contains { TextMetrics.width($0.label, size: 10) > plot.width / Double(max(1, ticks.count)) } ? -45 : 0)
            for tick in ticks {
                scene.items.append(.polyline([Point(tick.position, bottom), Point(tick.position, bottom + 5)], closed: false,
                                             paint: Paint(stroke: Self.axisColor), role: "tick-x"))
                scene.items.append(.text(tick.label, at: Point(tick.position, bottom + 17), size: 10, color: Self.labelColor,
                                         anchor: angle == 0 ? .middle : .end, angle: angle, bold: false, role: "tick-label-x"))
            }
            scene.items.append(.polyline([Point(plot.x, bottom), Point(right, bottom)], closed: false, paint: Paint(stroke: Self.axisColor), role: "domain-x"))
            if let title = axis.title ?? def.title ?? Self.defaultTitle(def) {
                scene.items.append(.text(title, at: Point(plot.x + plot.width / 2, bottom + 38), size: 11, color: Self.labelColor,
                                         anchor: .middle, angle: 0, bold: true, role: "axis-title-x"))
            }
        }
    }

    static func defaultTitle(_ def: FieldDef) -> String? {
        if let op = def.aggregate { return op == .count ? "Count of Records" : "\(op.rawValue.capitalized) of \(def.field ?? "")" }
        return def.field
    }

    func drawLegend(into scene: inout Scene) {
        guard let color, let def = colorDef, let legend = def.legend else { return }
        let left = plot.x + plot.width + 18
        var top = plot.y + 4
        if let title = legend.title ?? def.title ?? def.field {
            scene.items.append(.text(title, at: Point(left, top + 8), size: 11, color: Self.labelColor, anchor: .start, angle: 0, bold: true, role: "legend-title"))
            top += 18
        }
        switch color {
        case .categorical(let values):
            for value in values.prefix(Int(plot.height / 16)) {
                scene.items.append(.rect(x: left, y: top, width: 10, height: 10, paint: Paint(fill: color.color(.string(value))), role: "legend-symbol"))
                scene.items.append(.text(value, at: Point(left + 16, top + 9), size: 10, color: Self.labelColor, anchor: .start, angle: 0, bold: false, role: "legend-label"))
                top += 16
            }
        case .sequential(let low, let high):
            for step in 0..<5 {
                let value = low + (high - low) * Double(step) / 4
                scene.items.append(.rect(x: left, y: top, width: 10, height: 10, paint: Paint(fill: color.color(.number(value))), role: "legend-symbol"))
                let label = NumberFormat(decimals: max(0, 2 - Int(log10(max(1e-9, abs(high - low)))))).format(value)
                scene.items.append(.text(label, at: Point(left + 16, top + 9), size: 10, color: Self.labelColor, anchor: .start, angle: 0, bold: false, role: "legend-label"))
                top += 16
            }
        }
    }
}
