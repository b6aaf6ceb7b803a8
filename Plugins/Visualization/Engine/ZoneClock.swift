import Foundation

/// Wall-clock time in one IANA time zone (a chart's `timeZone`), for calendar-aware time ticks, their
/// labels and `timeUnit` truncation. UTC (the default) takes a fast path without Foundation.
public struct ZoneClock: Sendable {
    /// The zone; nil is UTC.
    public let zone: TimeZone?

    /// UTC.
    public static let utc = ZoneClock(zone: nil)

    public init(zone: TimeZone?) { self.zone = zone }

    /// The clock of an IANA identifier (`Europe/Berlin`, `America/New_York`, `UTC`); nil for an unknown one.
    public init?(identifier: String) {
        // Names only (Area/Location, UTC, Etc/GMT+3): never a path.
        guard (1...64).contains(identifier.utf8.count), !identifier.contains(".."), !identifier.hasPrefix("/"),
              identifier.utf8.allSatisfy({ $0 == 43 || $0 == 45 || $0 == 47 || $0 == 95 || (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) }),
              let zone = TimeZone(identifier: identifier) else { return nil }
        self.zone = zone.secondsFromGMT() == 0 && zone.nextDaylightSavingTimeTransition == nil ? nil : zone
    }

    /// The zone's offset from UTC at the instant `utc` (milliseconds since 1970), in milliseconds.
    public func offset(_ utc: Double) -> Double {
        guard let zone else { return 0 }
        return Double(zone.secondsFromGMT(for: Date(timeIntervalSince1970: utc / 1000))) * 1000
    }

    /// The calendar fields of the instant `utc` on this zone's wall clock.
    public func civil(_ utc: Double) -> CivilTime { CivilTime(milliseconds: utc + offset(utc)) }

    /// A cell as milliseconds since 1970 (UTC): numbers as they are; ISO 8601 strings with `Z` or an offset at
    /// that offset, and strings without one as wall-clock time on this clock (as Vega-Lite reads them in local
    /// time), through ``instant(_:)``'s rules for DST gaps and repeats.
    public func timestamp(_ value: DataValue) -> Double? {
        guard zone != nil, case .string(let text) = value else { return value.timestamp }
        guard let parsed = CivilTime.parseISOFields(text) else { return nil }
        if let offset = parsed.offset { return parsed.civil.milliseconds - offset }
        return instant(parsed.civil)
    }

    /// The instant whose wall-clock time here is `local`. A wall-clock time skipped by a DST jump
    /// resolves to the instant after the jump; one that happens twice, to its first occurrence.
    public func instant(_ local: CivilTime) -> Double {
        let wall = local.milliseconds
        guard zone != nil else { return wall }
        // The offset just before and just after the wall time; the earlier reading wins when both fit.
        let before = offset(wall - offset(wall) - 86_400_000 / 4), after = offset(wall - offset(wall) + 86_400_000 / 4)
        for candidate in [wall - max(before, after), wall - min(before, after)] where candidate + offset(candidate) == wall {
            return candidate
        }
        // In a gap: the instant after the jump keeps the wall time's distance from the previous offset.
        return wall - before
    }
}
