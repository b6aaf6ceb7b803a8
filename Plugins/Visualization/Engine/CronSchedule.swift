import Foundation

/// A five-field cron schedule (`minute hour day-of-month month day-of-week`) read in a time zone: `*`,
/// numbers, ranges `a-b`, lists `a,b` and steps `*/n` or `a-b/n`; day of week 0–7 (0 and 7 are Sunday).
/// When both day fields are restricted, a day matching either runs (as in classic cron).
public struct CronSchedule: Sendable, Equatable {
    public let expression: String
    public let timeZone: TimeZone
    let minutes: [Int], hours: [Int], days: Set<Int>, months: Set<Int>, weekdays: Set<Int>
    let anyDay: Bool, anyWeekday: Bool

    /// Parses `expression` for the IANA zone `timeZone` (`Europe/Berlin`, `UTC`).
    /// - Throws: ``ChartError`` `.invalid` at `path` (`.cron` or `.time_zone`) naming the field at fault.
    public init(_ expression: String, timeZone identifier: String, path: String) throws(ChartError) {
        guard let zone = TimeZone(identifier: identifier) else {
            throw ChartError(.invalid, path: path + ".time_zone", "'\(identifier.prefix(60))' is not a known time zone (an IANA name such as Europe/Berlin or UTC)")
        }
        let fields = expression.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard fields.count == 5 else {
            throw ChartError(.invalid, path: path + ".cron", "'\(expression.prefix(60))' has \(fields.count) fields; cron needs 5: minute hour day-of-month month day-of-week")
        }
        let names = ["minute", "hour", "day of month", "month", "day of week"]
        let ranges = [0...59, 0...23, 1...31, 1...12, 0...7]
        var sets: [Set<Int>] = []
        for (index, field) in fields.enumerated() {
            guard let set = Self.field(field, ranges[index]) else {
                throw ChartError(.invalid, path: path + ".cron", "the \(names[index]) field '\(field.prefix(30))' is not a number, range, list or step within \(ranges[index].lowerBound)-\(ranges[index].upperBound)")
            }
            sets.append(set)
        }
        self.expression = expression
        timeZone = zone
        minutes = sets[0].sorted()
        hours = sets[1].sorted()
        days = sets[2]
        months = sets[3]
        weekdays = Set(sets[4].map { $0 % 7 })
        anyDay = fields[2] == "*"
        anyWeekday = fields[4] == "*"
    }

    private static func field(_ text: String, _ range: ClosedRange<Int>) -> Set<Int>? {
        var values = Set<Int>()
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = item.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count <= 2 else { return nil }
            var step = 1
            if parts.count == 2 {
                guard let parsed = Int(parts[1]), parsed >= 1, parsed <= range.upperBound + 1 else { return nil }
                step = parsed
            }
            var low: Int, high: Int
            if parts[0] == "*" {
                (low, high) = (range.lowerBound, range.upperBound)
            } else if let dash = parts[0].firstIndex(of: "-") {
                guard let a = Int(parts[0][..<dash]), let b = Int(parts[0][parts[0].index(after: dash)...]), a <= b else { return nil }
                (low, high) = (a, b)
            } else {
                guard let single = Int(parts[0]) else { return nil }
                (low, high) = (single, parts.count == 2 ? range.upperBound : single)
            }
            guard range.contains(low), range.contains(high) else { return nil }
            values.formUnion(stride(from: low, through: high, by: step))
        }
        return values.isEmpty ? nil : values
    }

    /// The first time strictly after `date` the schedule fires (nil when none within five years, e.g. 31 February).
    public func next(after date: Date) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        var day = calendar.startOfDay(for: date)
        for _ in 0..<(366 * 5) {
            let c = calendar.dateComponents([.year, .month, .day, .weekday], from: day)
            let dayOK = days.contains(c.day!), weekdayOK = weekdays.contains(c.weekday! - 1)
            let matches = anyDay && anyWeekday ? true : anyDay ? weekdayOK : anyWeekday ? dayOK : dayOK || weekdayOK
            if months.contains(c.month!), matches {
                for hour in hours {
                    for minute in minutes {
                        let parts = DateComponents(year: c.year, month: c.month, day: c.day, hour: hour, minute: minute)
                        // A local time a daylight-saving change skips does not exist: it does not fire that day.
                        guard let candidate = calendar.date(from: parts), calendar.component(.hour, from: candidate) == hour,
                              candidate > date else { continue }
                        return candidate
                    }
                }
            }
            guard let following = calendar.date(byAdding: .day, value: 1, to: day) else { return nil }
            day = following
        }
        return nil
    }
}
