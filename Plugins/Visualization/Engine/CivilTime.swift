/// Proleptic Gregorian calendar arithmetic in UTC, without Foundation's calendars (fast and thread-free).
public struct CivilTime: Sendable, Equatable {
    public var year: Int
    public var month: Int   // 1...12
    public var day: Int     // 1...31
    public var hour = 0
    public var minute = 0
    public var second = 0
    public var millisecond = 0

    public init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0, millisecond: Int = 0) {
        (self.year, self.month, self.day, self.hour, self.minute, self.second, self.millisecond) = (year, month, day, hour, minute, second, millisecond)
    }

    /// Splits milliseconds since 1970 into calendar fields.
    public init(milliseconds: Double) {
        let total = Int64(milliseconds.rounded(.down))
        var days = total / 86_400_000
        var rest = total % 86_400_000
        if rest < 0 { rest += 86_400_000; days -= 1 }
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        year = Int(yoe + era * 400 + (m <= 2 ? 1 : 0))
        month = Int(m)
        day = Int(d)
        hour = Int(rest / 3_600_000)
        minute = Int(rest / 60_000 % 60)
        second = Int(rest / 1000 % 60)
        millisecond = Int(rest % 1000)
    }

    /// Milliseconds since 1970; months outside 1...12 roll over into years.
    public var milliseconds: Double {
        var y = Int64(year) + Int64((month - 1).floorDiv(12))
        let m = Int64((month - 1).floorMod(12) + 1)
        y -= m <= 2 ? 1 : 0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return Double(days * 86_400_000 + Int64(hour) * 3_600_000 + Int64(minute) * 60_000 + Int64(second) * 1000 + Int64(millisecond))
    }

    /// Parses `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS[.fff]]` with an optional `Z` or `±HH:MM`; nil otherwise.
    /// A string without an offset is read as UTC here (``ZoneClock/timestamp(_:)`` reads it on a zone's clock).
    public static func parseISO(_ text: String) -> Double? {
        guard let parsed = parseISOFields(text) else { return nil }
        return parsed.civil.milliseconds - (parsed.offset ?? 0)
    }

    /// The calendar fields of an ISO 8601 string and its offset from UTC in milliseconds (nil when it gives none:
    /// `Z` is an offset of 0).
    public static func parseISOFields(_ text: String) -> (civil: CivilTime, offset: Double?)? {
        let b = Array(text.utf8)
        func digits(_ at: Int, _ n: Int) -> Int? {
            guard at + n <= b.count else { return nil }
            var v = 0
            for i in at..<at + n { guard b[i] >= 48, b[i] <= 57 else { return nil }; v = v * 10 + Int(b[i] - 48) }
            return v
        }
        guard b.count >= 10, let y = digits(0, 4), b[4] == 45, let mo = digits(5, 2), b[7] == 45, let d = digits(8, 2),
              (1...12).contains(mo), (1...31).contains(d) else { return nil }
        var civil = CivilTime(year: y, month: mo, day: d)
        var i = 10
        if i < b.count, b[i] == 84 || b[i] == 32 {
            guard let h = digits(i + 1, 2), b.count > i + 3, b[i + 3] == 58, let mi = digits(i + 4, 2) else { return nil }
            civil.hour = h; civil.minute = mi; i += 6
            if i < b.count, b[i] == 58, let s = digits(i + 1, 2) { civil.second = s; i += 3 }
            if i < b.count, b[i] == 46 {
                i += 1
                var scale = 100
                while i < b.count, b[i] >= 48, b[i] <= 57 { civil.millisecond += Int(b[i] - 48) * scale; scale /= 10; i += 1 }
            }
        }
        var offset: Double?
        if i < b.count {
            if b[i] == 90 { offset = 0; i += 1 } else if b[i] == 43 || b[i] == 45, let oh = digits(i + 1, 2), let om = digits(i + 4, 2) {
                offset = Double((oh * 60 + om) * 60_000) * (b[i] == 43 ? 1 : -1)
                i += 6
            }
        }
        guard i == b.count else { return nil }
        return (civil, offset)
    }
}

extension Int {
    func floorDiv(_ d: Int) -> Int { self >= 0 ? self / d : -((-self + d - 1) / d) }
    func floorMod(_ d: Int) -> Int { self - floorDiv(d) * d }
}
