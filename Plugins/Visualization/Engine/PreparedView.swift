/// One leaf view ready to draw: its table after transforms, time units, binning and encoding aggregates,
/// with every channel resolved to a column and the positional values checked.
struct PreparedView {
    var path: String
    var mark: MarkSpec
    var encoding: [Channel: FieldDef]
    var table: DataTable
    /// The column each field channel reads.
    var fields: [Channel: String] = [:]
    /// Stacked bottoms and tops along y (bar/area with a colour and no xOffset).
    var stack: (bottom: [Double], top: [Double])?

    static let positional: [Channel] = [.x, .y, .x2, .y2, .theta, .size, .opacity]

    init(path: String, mark: MarkSpec, encoding: [Channel: FieldDef], table input: DataTable, clock: ZoneClock = .utc) throws(ChartError) {
        self.path = path
        self.mark = mark
        self.encoding = encoding
        table = input
        for (channel, def) in encoding.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            guard let field = def.field else { continue }
            guard table.index(of: field) != nil else {
                throw ChartError(.invalid, path: def.path + ".field", "field '\(field)' is not in the data (fields: \(table.names.joined(separator: ", ")))")
            }
            fields[channel] = field
        }
        for item in encoding[.tooltip]?.tooltipItems.dropFirst() ?? [] {
            guard let field = item.field, table.index(of: field) != nil else {
                throw ChartError(.invalid, path: item.path + ".field", "field '\(item.field ?? "")' is not in the data (fields: \(table.names.joined(separator: ", ")))")
            }
        }
        try checkOffsets()
        try readLocalDates(clock)
        try applyTimeUnits(clock)
        try applyBins()
        applyAggregates()
        try checkNumbers()
        if [.bar, .area].contains(mark.type), encoding[.xOffset] == nil, fields[.color] != nil, let y = encoding[.y], y.type == .quantitative,
           y.stack != false, encoding[.x]?.type.isDiscrete == true || encoding[.x]?.type == .temporal {
            stack = stacked()
        } else if horizontal, encoding[.yOffset] == nil, fields[.color] != nil, let x = encoding[.x], x.type == .quantitative, x.stack != false {
            stack = stacked()
        }
    }

    /// Offset-less date strings of temporal fields (and fields with a `timeUnit`) are wall-clock times in the chart's `timeZone` (UTC reads
    /// them as they are): each such column becomes instants (UTC milliseconds) read on `clock`, in place.
    private mutating func readLocalDates(_ clock: ZoneClock) throws(ChartError) {
        guard clock.zone != nil else { return }
        // Positional channels first, so a bad date is named where it is drawn.
        let order = { (channel: Channel) in (Self.positional.firstIndex(of: channel) ?? Self.positional.count, channel.rawValue) }
        for (channel, def) in encoding.sorted(by: { order($0.key) < order($1.key) }) where def.type == .temporal || def.timeUnit != nil {
            guard let field = fields[channel], table.numberColumns[field] == nil, let index = table.index(of: field) else { continue }
            let column = table.values(at: index)
            guard column.contains(where: { if case .string = $0 { true } else { false } }) else { continue }
            var instants: [Double] = []
            instants.reserveCapacity(column.count)
            for (row, value) in column.enumerated() {
                if value == .null { instants.append(.nan); continue }
                guard let t = clock.timestamp(value), t.isFinite else {
                    throw ChartError(.invalid, path: def.path + ".field", "row \(row): value \(value.text.prefix(40)) of field '\(field)' is not a finite date")
                }
                instants.append(t)
            }
            table.setNumbers(field, instants)
        }
    }

    /// Truncates temporal fields to their `timeUnit` on `clock`'s wall clock.
    private mutating func applyTimeUnits(_ clock: ZoneClock) throws(ChartError) {
        for (channel, def) in encoding {
            guard let unit = def.timeUnit, let field = fields[channel] else { continue }
            let name = "\(unit.rawValue)_\(field)"
            let column = table.values(at: table.index(of: field)!)
            table.set(name, column.map { value in
                guard let t = value.timestamp else { return .null }
                let c = clock.civil(t)
                switch unit {
                case .year: return .number(clock.instant(CivilTime(year: c.year, month: 1, day: 1)))
                case .yearmonth: return .number(clock.instant(CivilTime(year: c.year, month: c.month, day: 1)))
                case .yearmonthdate: return .number(clock.instant(CivilTime(year: c.year, month: c.month, day: c.day)))
                // Hours and minutes truncate the instant (a repeated local hour stays two hours).
                case .hours: return .number(t - floorRemainder(t + clock.offset(t), 3_600_000))
                case .minutes: return .number(t - floorRemainder(t + clock.offset(t), 60_000))
                case .month: return .number(Double(c.month))
                case .date: return .number(Double(c.day))
                }
            })
            fields[channel] = name
            if unit == .month || unit == .date { encoding[channel]?.type = .ordinal }
        }
    }

    /// Bins quantitative fields into about ten nice intervals: `bin_<field>` (start) and `bin_<field>_end`.
    private mutating func applyBins() throws(ChartError) {
        for (channel, def) in encoding where def.bin {
            guard let field = fields[channel], channel == .x || channel == .y else { continue }
            let values = table.values(at: table.index(of: field)!).compactMap(\.number).filter(\.isFinite)
            guard let low = values.min(), let high = values.max() else { continue }
            let step = Ticks.step(low, high, count: 10)
            let start = "bin_\(field)", end = "bin_\(field)_end"
            let column = table.values(at: table.index(of: field)!)
            table.set(start, column.map { $0.number.map { .number(($0 / step).rounded(.down) * step) } ?? .null })
            table.set(end, column.map { $0.number.map { .number(($0 / step).rounded(.down) * step + step) } ?? .null })
            fields[channel] = start
            fields[channel == .x ? .x2 : .y2] = end
            encoding[channel == .x ? .x2 : .y2] = FieldDef(path: def.path, field: end, type: .quantitative)
        }
    }

    /// Aggregates in encodings group by every other field channel.
    private mutating func applyAggregates() {
        let aggregated = encoding.filter { $0.value.aggregate != nil }
        guard !aggregated.isEmpty else { return }
        let groupChannels = fields.keys.filter { encoding[$0]?.aggregate == nil }.sorted { $0.rawValue < $1.rawValue }
        let groupby = Array(Set(groupChannels.compactMap { fields[$0] })).sorted()
        var specs: [AggregateField] = []
        for (channel, def) in aggregated.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            let name = "\(def.aggregate!.rawValue)_\(fields[channel] ?? "")"
            specs.append(AggregateField(op: def.aggregate!, field: fields[channel], name: name))
            fields[channel] = name
            encoding[channel]?.type = .quantitative
        }
        table = TransformRunner.aggregate(table, specs, groupby: groupby)
    }

    /// Quantitative and temporal positions must be finite numbers (or null, which is skipped).
    private func checkNumbers() throws(ChartError) {
        for channel in Self.positional {
            guard let def = encoding[channel], let field = fields[channel], !def.type.isDiscrete else { continue }
            if let numbers = table.numberColumns[field] {
                // NaN is a missing value here; only infinities are wrong.
                let range = table.numberRanges[field]
                if let row = range == nil ? numbers.firstIndex(where: { $0.isInfinite }) : range!.firstInfinite {
                    throw ChartError(.invalid, path: def.path + ".field", "row \(row): value \(numbers[row]) of field '\(field)' is not a finite number")
                }
                continue
            }
            let column = table.values(at: table.index(of: field)!)
            for (row, value) in column.enumerated() {
                if value == .null { continue }
                let number = def.type == .temporal ? value.timestamp : value.number
                guard let number, number.isFinite else {
                    throw ChartError(.invalid, path: def.path + ".field",
                                     "row \(row): value \(value.text.prefix(40)) of field '\(field)' is not a finite \(def.type == .temporal ? "date" : "number")")
                }
            }
        }
    }

    /// `xOffset` groups vertical bars inside their x band, `yOffset` horizontal bars inside their y band; each
    /// needs a discrete field and the orientation it groups.
    private func checkOffsets() throws(ChartError) {
        for (channel, band) in [(Channel.xOffset, Channel.x), (.yOffset, .y)] {
            guard let def = encoding[channel] else { continue }
            let name = channel.rawValue
            guard mark.type == .bar else { throw ChartError(.unsupported, path: def.path, "\(name) groups bars; a \(mark.type.rawValue) mark cannot use it") }
            guard encoding[band]?.type.isDiscrete == true else {
                throw ChartError(.invalid, path: def.path, "\(name) groups bars inside the bands of a discrete \(band.rawValue); \(band.rawValue) is not ordinal or nominal here")
            }
            guard def.field != nil, def.type.isDiscrete else { throw ChartError(.invalid, path: def.path + ".type", "\(name) needs a field of type nominal or ordinal") }
        }
    }

    /// Bars along x: a bar mark with a discrete y and a continuous x.
    var horizontal: Bool { mark.type == .bar && encoding[.y]?.type.isDiscrete == true && encoding[.x]?.type.isDiscrete == false }

    /// The channel bar lengths and stacks run along.
    var valueChannel: Channel { horizontal ? .x : .y }

    /// Cumulative bottoms and tops per category (x, or y for horizontal bars), in row order.
    private func stacked() -> (bottom: [Double], top: [Double]) {
        let xs = column(horizontal ? .y : .x), ys = column(horizontal ? .x : .y)
        var positive: [DataValue: Double] = [:], negative: [DataValue: Double] = [:]
        var bottom = [Double](repeating: 0, count: table.count), top = bottom
        for row in 0..<table.count {
            let y = ys[row].number ?? 0
            if y >= 0 {
                bottom[row] = positive[xs[row], default: 0]; top[row] = bottom[row] + y; positive[xs[row]] = top[row]
            } else {
                bottom[row] = negative[xs[row], default: 0]; top[row] = bottom[row] + y; negative[xs[row]] = top[row]
            }
        }
        return (bottom, top)
    }

    /// The values of a channel's column (empty when the channel has no field).
    func column(_ channel: Channel) -> [DataValue] {
        guard let field = fields[channel], let index = table.index(of: field) else { return [] }
        return table.values(at: index)
    }

    /// Widens `low...high` by the numbers of a continuous channel (timestamps for temporal), without
    /// making an array of them.
    func extent(_ channel: Channel, _ low: inout Double, _ high: inout Double) {
        if let numbers = numberColumn(channel) {
            if let field = fields[channel], let range = table.numberRanges[field] {
                if let lowest = range.low, let highest = range.high { low = min(low, lowest); high = max(high, highest) }
                return
            }
            for v in numbers where !v.isNaN { low = min(low, v); high = max(high, v) }
            return
        }
        let temporal = encoding[channel]?.type == .temporal
        for value in column(channel) {
            guard let v = temporal ? value.timestamp : value.number, !v.isNaN else { continue }
            low = min(low, v); high = max(high, v)
        }
    }

    /// The channel's column when the table holds it as plain numbers (NaN for missing values).
    func numberColumn(_ channel: Channel) -> [Double]? {
        guard let field = fields[channel], encoding[channel]?.type.isDiscrete == false else { return nil }
        return table.numberColumns[field]
    }

    /// Numbers of a continuous channel (timestamps for temporal), NaN for missing values.
    func numbers(_ channel: Channel) -> [Double] {
        if let numbers = numberColumn(channel) { return numbers }
        let temporal = encoding[channel]?.type == .temporal
        return column(channel).map { (temporal ? $0.timestamp : $0.number) ?? .nan }
    }
}

/// `value` modulo `divisor`, in `0..<divisor`.
func floorRemainder(_ value: Double, _ divisor: Double) -> Double { value - (value / divisor).rounded(.down) * divisor }
