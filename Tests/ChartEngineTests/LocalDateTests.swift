import ChartEngine
import XCTest

/// Date strings without an offset in a chart with a `timeZone` are wall-clock times in that zone (as
/// Vega-Lite reads them in local time): a skipped hour resolves after the jump, a repeated hour to its first
/// occurrence; strings with `Z` or an offset, and charts without a zone, read as before.
final class LocalDateTests: XCTestCase {
    let york = ZoneClock(identifier: "America/New_York")!
    func utc(_ text: String) -> Double { CivilTime.parseISO(text)! }

    func testOffsetLessStringsAreWallClockTimeInTheZone() {
        XCTAssertEqual(york.timestamp(.string("2026-01-15T09:00")), utc("2026-01-15T14:00:00Z"), "EST is UTC-5")
        XCTAssertEqual(york.timestamp(.string("2026-07-15T09:00:00.250")), utc("2026-07-15T13:00:00.250Z"), "EDT is UTC-4")
        XCTAssertEqual(york.timestamp(.string("2026-07-15")), utc("2026-07-15T04:00:00Z"), "a date is local midnight")
        XCTAssertEqual(york.timestamp(.string("2026-07-15T09:00Z")), utc("2026-07-15T09:00:00Z"), "Z is kept")
        XCTAssertEqual(york.timestamp(.string("2026-07-15T09:00+02:00")), utc("2026-07-15T07:00:00Z"), "an offset is kept")
        XCTAssertEqual(york.timestamp(.number(5)), 5, "numbers are instants already")
        XCTAssertNil(york.timestamp(.string("2026-07-15 nine")))
        XCTAssertEqual(ZoneClock.utc.timestamp(.string("2026-07-15T09:00")), utc("2026-07-15T09:00:00Z"), "no zone: UTC as before")
    }

    func testDSTGapAndOverlap() {
        // 2026-03-08 02:00 EST jumps to 03:00 EDT: 02:30 does not exist and reads as 03:30 EDT (the earlier
        // offset applied, as JavaScript's Date does).
        XCTAssertEqual(york.timestamp(.string("2026-03-08T02:30")), utc("2026-03-08T07:30:00Z"))
        XCTAssertEqual(york.timestamp(.string("2026-03-08T01:59")), utc("2026-03-08T06:59:00Z"), "just before the gap: EST")
        XCTAssertEqual(york.timestamp(.string("2026-03-08T03:00")), utc("2026-03-08T07:00:00Z"), "just after: EDT")
        // 2026-11-01 02:00 EDT falls back to 01:00 EST: 01:30 happens twice; the first (EDT) wins.
        XCTAssertEqual(york.timestamp(.string("2026-11-01T01:30")), utc("2026-11-01T05:30:00Z"))
        XCTAssertEqual(york.timestamp(.string("2026-11-01T02:30")), utc("2026-11-01T07:30:00Z"), "after the overlap: EST")
        // Southern hemisphere and a half-hour zone.
        let adelaide = ZoneClock(identifier: "Australia/Adelaide")!
        XCTAssertEqual(adelaide.timestamp(.string("2026-01-10T12:00")), utc("2026-01-10T01:30:00Z"), "ACDT is UTC+10:30")
    }

    func chart(_ dates: [String], zone: String?) -> String {
        let values = dates.enumerated().map { #"{"t": "\#($1)", "v": \#($0 + 1)}"# }.joined(separator: ",")
        return #"""
        {"width": 500, "height": 200, \#(zone.map { #""timeZone": "\#($0)","# } ?? "") "data": {"values": [\#(values)]}, "mark": "point",
         "encoding": {"x": {"field": "t", "type": "temporal"}, "y": {"field": "v", "type": "quantitative"},
                      "tooltip": {"field": "t", "type": "temporal"}}}
        """#
    }

    func testAChartPlacesLocalStringsAsTheirOffsetEquivalents() throws {
        let local = try Charts.svg(chart(["2026-03-07T12:00", "2026-03-08T02:30", "2026-03-08T12:00"], zone: "America/New_York"))
        let explicit = try Charts.svg(chart(["2026-03-07T12:00-05:00", "2026-03-08T03:30-04:00", "2026-03-08T12:00-04:00"], zone: "America/New_York"))
        XCTAssertEqual(Charts.attribute(local, role: "mark-point", "cx"), Charts.attribute(explicit, role: "mark-point", "cx"))
        XCTAssertEqual(Charts.texts(local, role: "tick-label-x"), Charts.texts(explicit, role: "tick-label-x"))
        XCTAssertTrue(local.contains("<title>t: 2026-03-08 03:30</title>"), "the tooltip shows the wall clock after the jump")
        // Read as UTC (no zone), the gap point sits elsewhere relative to its neighbours.
        let utcChart = try Charts.svg(chart(["2026-03-07T12:00", "2026-03-08T02:30", "2026-03-08T12:00"], zone: nil))
        XCTAssertNotEqual(Charts.attribute(utcChart, role: "mark-point", "cx"), Charts.attribute(local, role: "mark-point", "cx"))
    }

    func testTimeUnitsTruncateLocalStringsOnTheLocalClock() throws {
        let spec = #"""
        {"timeZone": "Europe/Berlin", "data": {"values": [{"t": "2026-05-31T23:30", "v": 1}, {"t": "2026-06-01T00:30", "v": 2}]}, "mark": "bar",
         "encoding": {"x": {"field": "t", "type": "ordinal", "timeUnit": "month"}, "y": {"field": "v", "type": "quantitative", "aggregate": "sum"}}}
        """#
        XCTAssertEqual(Charts.texts(try Charts.svg(spec), role: "tick-label-x"), ["5", "6"], "23:30 on May 31 in Berlin stays in May")
    }

    func testAnUnreadableDateIsRefusedWithItsPath() {
        let error = Charts.refusal(chart(["2026-03-07T12:00", "yesterday"], zone: "Europe/Berlin"))
        XCTAssertEqual(error?.path, "$.encoding.x.field")
        XCTAssertEqual(error?.kind, .invalid)
        XCTAssertTrue(error?.message.contains("row 1") == true, error?.message ?? "")
    }
}
