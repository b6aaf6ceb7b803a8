/// The plot area, the shared scales of all views, and the axes and legend drawn around them.
struct Layout {
    var plot: (x: Double, y: Double, width: Double, height: Double)
    var x: PositionScale?
    var y: PositionScale?
    var xDef: FieldDef?
    var yDef: FieldDef?
    var color: ColorScale?
    var colorDef: FieldDef?
    var xOffset: [String] = []
    /// The groups inside each y band of horizontal bars (`yOffset`), in order.
    var yOffset: [String] = []
    var isArc: Bool
    /// The wall clock of time ticks and labels.
    var clock: ZoneClock

    init(spec: ChartSpec, views: [PreparedView]) throws(ChartError) {
        isArc = views.allSatisfy { $0.mark.type == .arc }
        clock = spec.clock
        xDef = views.lazy.compactMap { $0.encoding[.x] }.first
        yDef = views.lazy.compactMap { $0.encoding[.y] }.first
        colorDef = views.lazy.compactMap { $0.encoding[.color] }.first { $0.field != nil }
        var colorValues: [DataValue] = []
        for view in views { colorValues += view.column(.color) }
        if let def = colorDef, !colorValues.isEmpty {
            if def.type == .quantitative {
                let numbers = colorValues.compactMap(\.number)
                color = .sequential(low: numbers.min() ?? 0, high: numbers.max() ?? 1)
            } else {
                color = .categorical(Self.discrete(colorValues, sort: def.sort))
            }
        }
        for view in views { xOffset += view.column(.xOffset).map(\.text) }
        xOffset = Self.discrete(xOffset.map { .string($0) }, sort: .ascending)
        for view in views { yOffset += view.column(.yOffset).map(\.text) }
        yOffset = Self.discrete(yOffset.map { .string($0) }, sort: .ascending)
        // Margins: room for the title, y labels, x labels and the legend.
        let top = spec.title == nil ? 12.0 : 36.0
        let legendWidth = color.map { scale -> Double in
            guard case .categorical(let values) = scale else { return 80 }
            return min(200, (values.map { TextMetrics.width($0, size: 11) }.max() ?? 0) + 40)
        } ?? 0
        let left = isArc || yDef?.axis == nil ? 12.0 : 62.0
        let bottom = isArc || xDef?.axis == nil ? 12.0 : 48.0
        let right = 14 + (legendWidth > 0 ? legendWidth + 10 : 0)
        plot = (left, top, max(10, spec.width - left - right), max(10, spec.height - top - bottom))
        guard !isArc else { return }
        x = try Self.scale(.x, views, from: plot.x, to: plot.x + plot.width, padding: 0.1)
        y = try Self.scale(.y, views, from: plot.y + plot.height, to: plot.y, padding: 0.1)
    }

    /// Distinct values in the requested order.
    static func discrete(_ values: [DataValue], sort: SortOrder) -> [String] {
        var seen = Set<DataValue>(), unique: [DataValue] = []
        for value in values where seen.insert(value).inserted { unique.append(value) }
        switch sort {
        case .none: return unique.map(\.text)
        case .ascending: return unique.sorted(by: Ordering.less).map(\.text)
        case .descending: return unique.sorted(by: Ordering.less).reversed().map(\.text)
        case .explicit(let order): return order + unique.map(\.text).filter { !order.contains($0) }
        }
    }

    private static func scale(_ channel: Channel, _ views: [PreparedView], from: Double, to: Double, padding: Double) throws(ChartError) -> PositionScale? {
        let secondary: Channel = channel == .x ? .x2 : .y2
        let defs = views.compactMap { $0.encoding[channel] }
        guard let def = defs.first else { return nil }
        if def.type.isDiscrete {
            var values: [DataValue] = []
            for view in views { values += view.column(channel) }
            return .band(values: discrete(values, sort: def.sort), from: from, to: to, padding: padding)
        }
        var low = Double.infinity, high = -Double.infinity
        for view in views {
            if channel == view.valueChannel, let stack = view.stack {
                for column in [stack.bottom, stack.top] { for v in column where !v.isNaN { low = min(low, v); high = max(high, v) } }
            } else {
                view.extent(channel, &low, &high)
                view.extent(secondary, &low, &high)
            }
            if channel == view.valueChannel, [.bar, .area].contains(view.mark.type), def.type == .quantitative { low = min(low, 0); high = max(high, 0) }
        }
        guard low.isFinite else { return .continuous(low: 0, high: 1, from: from, to: to, temporal: def.type == .temporal) }
        if let domain = def.domain { (low, high) = (domain[0], domain[1]) }
        else if def.type == .quantitative {
            if def.zero ?? !def.bin, low > 0 { low = 0 }
            if def.zero ?? !def.bin, high < 0 { high = 0 }
            // The same tick count the axis asks for (one tick per 40 px on y, 80 px on x), so the ends are ticks.
            if def.nice { (low, high) = Ticks.nice(low, high, count: def.axis?.tickCount ?? max(2, Int(abs(to - from) / (channel == .x ? 80 : 40)))) }
        }
        if high == low { high = low + 1 }
        return .continuous(low: low, high: high, from: from, to: to, temporal: def.type == .temporal)
    }
}
