/// Maps data values to pixels along one axis.
enum PositionScale {
    /// Linear or time: `domain` onto `range` (range may run downwards for y).
    case continuous(low: Double, high: Double, from: Double, to: Double, temporal: Bool)
    /// Discrete values into equal bands with `padding` (a fraction of the step) between them.
    case band(values: [String], from: Double, to: Double, padding: Double)

    /// The pixel of a continuous value.
    func position(_ value: Double) -> Double {
        guard case .continuous(let low, let high, let from, let to, _) = self else { return 0 }
        return high == low ? (from + to) / 2 : from + (value - low) / (high - low) * (to - from)
    }

    /// `position(v) == v * slope + intercept` for a continuous scale (nil for bands), for loops over many values.
    var linear: (slope: Double, intercept: Double)? {
        guard case .continuous(let low, let high, let from, let to, _) = self else { return nil }
        if high == low { return (0, (from + to) / 2) }
        let slope = (to - from) / (high - low)
        return (slope, from - low * slope)
    }

    /// Start and width of the band holding `key`.
    func band(_ key: String) -> (start: Double, width: Double)? {
        guard case .band(let values, let from, let to, let padding) = self, let index = values.firstIndex(of: key) else { return nil }
        let step = (to - from) / Double(max(1, values.count))
        return (from + Double(index) * step + step * padding / 2, step * (1 - padding))
    }

    /// Centre of the band or position of the value, whichever this scale is.
    func center(_ value: DataValue) -> Double? {
        switch self {
        case .band: return band(value.text).map { $0.start + $0.width / 2 }
        case .continuous(_, _, _, _, let temporal):
            guard let number = temporal ? value.timestamp : value.number else { return nil }
            return position(number)
        }
    }

    var isBand: Bool { if case .band = self { true } else { false } }

    /// Tick positions and labels.
    func ticks(count: Int, format: NumberFormat?, clock: ZoneClock = .utc) -> [(position: Double, label: String)] {
        switch self {
        case .band(let values, _, _, _):
            return values.compactMap { key in band(key).map { ($0.start + $0.width / 2, key) } }
        case .continuous(let low, let high, _, _, let temporal):
            if temporal {
                let (values, interval) = Ticks.time(low, high, count: count, clock: clock)
                return values.map { (position($0), Ticks.timeLabel($0, interval: interval, clock: clock)) }
            }
            let (values, decimals) = Ticks.linear(low, high, count: count)
            let formatter = format ?? NumberFormat(decimals: decimals)
            return values.map { (position($0), formatter.format($0)) }
        }
    }
}

/// Maps data values to colours: categorical for discrete fields, the sequential ramp for numbers.
enum ColorScale {
    case categorical([String])
    case sequential(low: Double, high: Double)

    func color(_ value: DataValue) -> String {
        switch self {
        case .categorical(let values):
            let index = values.firstIndex(of: value.text) ?? 0
            return Colors.categorical[index % Colors.categorical.count]
        case .sequential(let low, let high):
            guard let number = value.number else { return "#CCCCCC" }
            return Colors.ramp(high == low ? 0.5 : (number - low) / (high - low))
        }
    }
}
