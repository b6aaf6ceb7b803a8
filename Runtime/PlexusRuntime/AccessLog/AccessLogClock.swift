import Glibc

/// The time texts of access records, in UTC, recomputed once a second: ISO 8601
/// (`2026-12-06T05:17:08`, milliseconds appended per record) and the combined format's
/// `06/Dec/2026:05:17:08 +0000`.
struct AccessLogClock {
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"].map { Array($0.utf8) }
    private var second = -1
    private(set) var iso: [UInt8] = []
    private(set) var combined: [UInt8] = []

    /// Makes ``iso`` and ``combined`` describe `seconds` since the epoch.
    mutating func update(seconds: Int) {
        guard seconds != second else { return }
        second = seconds
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        iso.removeAll(keepingCapacity: true)
        Self.digits(Int(parts.tm_year) + 1900, 4, &iso); iso.append(UInt8(ascii: "-"))
        Self.digits(Int(parts.tm_mon) + 1, 2, &iso); iso.append(UInt8(ascii: "-"))
        Self.digits(Int(parts.tm_mday), 2, &iso); iso.append(UInt8(ascii: "T"))
        Self.digits(Int(parts.tm_hour), 2, &iso); iso.append(UInt8(ascii: ":"))
        Self.digits(Int(parts.tm_min), 2, &iso); iso.append(UInt8(ascii: ":"))
        Self.digits(Int(parts.tm_sec), 2, &iso)
        combined.removeAll(keepingCapacity: true)
        Self.digits(Int(parts.tm_mday), 2, &combined); combined.append(UInt8(ascii: "/"))
        combined.append(contentsOf: Self.months[Int(parts.tm_mon)]); combined.append(UInt8(ascii: "/"))
        Self.digits(Int(parts.tm_year) + 1900, 4, &combined); combined.append(UInt8(ascii: ":"))
        Self.digits(Int(parts.tm_hour), 2, &combined); combined.append(UInt8(ascii: ":"))
        Self.digits(Int(parts.tm_min), 2, &combined); combined.append(UInt8(ascii: ":"))
        Self.digits(Int(parts.tm_sec), 2, &combined)
        combined.append(contentsOf: Array(" +0000".utf8))
    }

    /// `value` in decimal, zero-padded to `width` digits.
    static func digits(_ value: Int, _ width: Int, _ out: inout [UInt8]) {
        var divisor = 1
        for _ in 1..<width { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            out.append(UInt8(ascii: "0") + UInt8(rest / divisor % 10))
            rest %= divisor
            divisor /= 10
        }
    }
}
