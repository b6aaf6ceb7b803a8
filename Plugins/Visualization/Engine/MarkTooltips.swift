/// The tooltip lines of a view's marks: the `tooltip` channel's fields, or every encoded field when the
/// mark says `"tooltip": true`. Lines and areas carry them on hover targets at their points (``MarkPainter``).
struct MarkTooltips {
    private var entries: [(label: String, values: [DataValue], temporal: Bool)] = []
    private let clock: ZoneClock

    init(view: PreparedView, clock: ZoneClock) {
        self.clock = clock
        if let def = view.encoding[.tooltip] {
            let items = def.tooltipItems.isEmpty ? [def] : def.tooltipItems
            for (index, item) in items.enumerated() {
                // The first entry is the channel itself (its column may be a time unit, bin or aggregate).
                let column = index == 0 ? view.fields[.tooltip] : item.field
                guard let column, let at = view.table.index(of: column) else { continue }
                entries.append((item.title ?? item.field ?? column, view.table.values(at: at), item.type == .temporal))
            }
        } else if view.mark.tooltip {
            for channel in [Channel.x, .y, .x2, .y2, .theta, .color, .size, .opacity, .text, .xOffset, .yOffset] {
                guard let column = view.fields[channel], let at = view.table.index(of: column), let def = view.encoding[channel] else { continue }
                entries.append((def.title ?? column, view.table.values(at: at), def.type == .temporal))
            }
        }
    }

    var isEmpty: Bool { entries.isEmpty }

    /// `label: value` lines of one row.
    func text(_ row: Int) -> String {
        var lines: [String] = []
        for entry in entries where row < entry.values.count {
            let value = entry.values[row]
            if entry.temporal, let t = clock.timestamp(value) {
                let c = clock.civil(t)
                func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
                lines.append("\(entry.label): \(c.year)-\(two(c.month))-\(two(c.day)) \(two(c.hour)):\(two(c.minute))")
            } else {
                lines.append("\(entry.label): \(value.text)")
            }
        }
        return lines.joined(separator: "\n")
    }
}
