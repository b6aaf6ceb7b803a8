import Foundation

/// Nice axis ticks (the 1-2-5 rule) and calendar-aware time ticks.
public enum Ticks {
    /// The tick step for about `count` ticks over `[low, high]`: 1, 2 or 5 times a power of ten.
    public static func step(_ low: Double, _ high: Double, count: Int) -> Double {
        let span = high - low
        guard span > 0, span.isFinite else { return 1 }
        let raw = span / Double(max(1, count))
        let power = pow(10, floor(log10(raw)))
        let error = raw / power
        let factor: Double = error >= 7.07 ? 10 : error >= 3.16 ? 5 : error >= 1.41 ? 2 : 1
        return factor * power
    }

    /// `[low, high]` widened to multiples of the tick step.
    public static func nice(_ low: Double, _ high: Double, count: Int) -> (Double, Double) {
        guard high > low else { return low == 0 ? (0, 1) : (min(0, low), max(0, high) + (low == high ? abs(low) : 0)) }
        let step = step(low, high, count: count)
        return (floor(low / step) * step, ceil(high / step) * step)
    }

    /// The ticks inside `[low, high]` and the number of decimals their labels need.
    public static func linear(_ low: Double, _ high: Double, count: Int) -> (values: [Double], decimals: Int) {
        let step = step(low, high, count: count)
        let first = ceil(low / step - 1e-9), last = floor(high / step + 1e-9)
        guard last >= first, last - first < 1000 else { return ([low, high], 2) }
        let decimals = max(0, -Int(floor(log10(step) + 1e-9)))
        return (stride(from: first, through: last, by: 1).map { ($0 * step * 1e9).rounded() / 1e9 }, decimals)
    }

    /// A calendar interval for time ticks.
    public enum TimeInterval: Sendable, Equatable {
        case milliseconds(Double)
        case months(Int)
        case years(Int)
    }

    private static let second = 1000.0, minute = 60_000.0, hour = 3_600_000.0, day = 86_400_000.0
    private static let candidates: [(TimeInterval, Double)] = [
        (.milliseconds(second), second), (.milliseconds(5 * second), 5 * second), (.milliseconds(15 * second), 15 * second),
        (.milliseconds(30 * second), 30 * second), (.milliseconds(minute), minute), (.milliseconds(5 * minute), 5 * minute),
        (.milliseconds(15 * minute), 15 * minute), (.milliseconds(30 * minute), 30 * minute), (.milliseconds(hour), hour),
        (.milliseconds(3 * hour), 3 * hour), (.milliseconds(6 * hour), 6 * hour), (.milliseconds(12 * hour), 12 * hour),
        (.milliseconds(day), day), (.milliseconds(2 * day), 2 * day), (.milliseconds(7 * day), 7 * day),
        (.months(1), 30 * day), (.months(3), 91 * day), (.months(6), 182 * day), (.years(1), 365 * day),
    ]

    /// Time ticks on calendar boundaries (midnights, first of the month, 1 January) of `clock`'s wall clock
    /// for about `count` ticks. Across a DST change the ticks stay on local boundaries: a skipped hour has
    /// no tick, a repeated one has two.
    public static func time(_ low: Double, _ high: Double, count: Int, clock: ZoneClock = .utc) -> (values: [Double], interval: TimeInterval) {
        let target = (high - low) / Double(max(1, count))
        var interval = candidates.first { $0.1 >= target }?.0
        if interval == nil {
            let years = Int(step(0, target / (365 * day), count: 1).rounded(.up))
            interval = .years(max(1, years))
        }
        var ticks: [Double] = []
        switch interval! {
        case .milliseconds(let ms) where ms < day:
            if clock.zone == nil {
                var t = ceil(low / ms) * ms
                while t <= high, ticks.count < 500 { ticks.append(t); t += ms }
            } else {
                // Walk a grid fine enough for every zone offset (multiples of 15 minutes); keep the local boundaries.
                let grid = min(ms, 15 * minute)
                var t = ceil(low / grid) * grid
                while t <= high, ticks.count < 500 {
                    let local = t + clock.offset(t)
                    if (local.truncatingRemainder(dividingBy: ms) + ms).truncatingRemainder(dividingBy: ms) == 0 { ticks.append(t) }
                    t += grid
                }
            }
        case .milliseconds(let ms):
            // Local midnights; weeks start on Monday (1970-01-05 was a Monday), other steps align to local day numbers.
            let days = Int(ms / day), origin = days == 7 ? 4 : 0
            let first = Int(floor((low + clock.offset(low)) / day)), last = Int(floor((high + clock.offset(high)) / day)) + 1
            var d = first - ((first - origin) % days + days) % days
            while d <= last, ticks.count < 500 {
                let t = clock.instant(CivilTime(milliseconds: Double(d) * day))
                if t >= low, t <= high { ticks.append(t) }
                d += days
            }
        case .months(let n):
            let start = clock.civil(low)
            var civil = CivilTime(year: start.year, month: ((start.month - 1) / n) * n + 1, day: 1)
            while clock.instant(civil) <= high, ticks.count < 500 {
                let t = clock.instant(civil)
                if t >= low { ticks.append(t) }
                civil.month += n
                if civil.month > 12 { civil.month -= 12; civil.year += 1 }
            }
        case .years(let n):
            let start = clock.civil(low)
            var year = Int((Double(start.year) / Double(n)).rounded(.down)) * n
            while clock.instant(CivilTime(year: year, month: 1, day: 1)) <= high, ticks.count < 500 {
                let t = clock.instant(CivilTime(year: year, month: 1, day: 1))
                if t >= low { ticks.append(t) }
                year += n
            }
        }
        return (ticks, interval!)
    }

    private static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// The label of a time tick at the precision of its interval.
    public static func timeLabel(_ t: Double, interval: TimeInterval, clock: ZoneClock = .utc) -> String {
        let c = clock.civil(t)
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        switch interval {
        case .years: return "\(c.year)"
        case .months: return c.month == 1 ? "\(c.year)" : monthNames[c.month - 1]
        case .milliseconds(let ms):
            if ms >= day { return "\(monthNames[c.month - 1]) \(two(c.day))" }
            if c.hour == 0, c.minute == 0, c.second == 0 { return "\(monthNames[c.month - 1]) \(two(c.day))" }
            if ms >= minute { return "\(two(c.hour)):\(two(c.minute))" }
            return "\(two(c.hour)):\(two(c.minute)):\(two(c.second))"
        }
    }
}
