import ChartEngine
import XCTest

/// Time axes on a chart's IANA time zone: ticks on local boundaries, correct across DST changes.
final class TimeZoneTests: XCTestCase {
    let berlin = ZoneClock(identifier: "Europe/Berlin")!
    let hour = 3_600_000.0, day = 86_400_000.0

    func utc(_ text: String) -> Double { CivilTime.parseISO(text)! }

    func labels(_ low: String, _ high: String, count: Int, _ clock: ZoneClock) -> [String] {
        let (values, interval) = Ticks.time(utc(low), utc(high), count: count, clock: clock)
        return values.map { Ticks.timeLabel($0, interval: interval, clock: clock) }
    }

    func testHourlyTicksSkipTheSpringForwardHour() {
        // 2024-03-31 01:00 UTC: Berlin jumps from 02:00 CET to 03:00 CEST.
        XCTAssertEqual(labels("2024-03-30T22:00:00Z", "2024-03-31T04:00:00Z", count: 6, berlin),
                       ["23:00", "Mar 31", "01:00", "03:00", "04:00", "05:00", "06:00"])
    }

    func testHourlyTicksRepeatTheFallBackHour() {
        // 2024-10-27 01:00 UTC: Berlin goes back from 03:00 CEST to 02:00 CET; 02:00 happens twice.
        XCTAssertEqual(labels("2024-10-26T22:00:00Z", "2024-10-27T03:00:00Z", count: 5, berlin),
                       ["Oct 27", "01:00", "02:00", "02:00", "03:00", "04:00"])
    }

    func testDailyTicksAreLocalMidnightsAcrossDST() {
        let (values, interval) = Ticks.time(utc("2024-03-29T23:00:00Z"), utc("2024-04-02T22:00:00Z"), count: 4, clock: berlin)
        XCTAssertEqual(interval, .milliseconds(day))
        XCTAssertEqual(values.map { Ticks.timeLabel($0, interval: interval, clock: berlin) }, ["Mar 30", "Mar 31", "Apr 01", "Apr 02", "Apr 03"])
        XCTAssertEqual(zip(values, values.dropFirst()).map { ($1 - $0) / hour }, [24, 23, 24, 24], "the DST day is 23 hours long")
        // In UTC the same range has midnights an even day apart.
        let plain = Ticks.time(utc("2024-03-29T23:00:00Z"), utc("2024-04-02T22:00:00Z"), count: 4).values
        XCTAssertTrue(zip(plain, plain.dropFirst()).allSatisfy { $1 - $0 == day })
    }

    func testMonthTicksAreLocalFirstsOfTheMonth() {
        let york = ZoneClock(identifier: "America/New_York")!
        let (values, interval) = Ticks.time(utc("2024-01-01T00:00:00Z"), utc("2024-12-31T00:00:00Z"), count: 6, clock: york)
        XCTAssertEqual(interval, .months(3))
        XCTAssertEqual(values.map { Ticks.timeLabel($0, interval: interval, clock: york) }, ["2024", "Apr", "Jul", "Oct"])
        XCTAssertEqual(values.first, utc("2024-01-01T05:00:00Z"), "midnight EST")
        XCTAssertEqual(values[1], utc("2024-04-01T04:00:00Z"), "midnight EDT")
    }

    func testQuarterHourZonesTickOnTheirOwnHalfHours() {
        let kathmandu = ZoneClock(identifier: "Asia/Kathmandu")!   // UTC+5:45
        let (values, _) = Ticks.time(utc("2024-01-01T00:00:00Z"), utc("2024-01-01T03:00:00Z"), count: 6, clock: kathmandu)
        XCTAssertEqual(values.first, utc("2024-01-01T00:15:00Z"), "06:00 local")
        XCTAssertEqual(labels("2024-01-01T00:00:00Z", "2024-01-01T03:00:00Z", count: 6, kathmandu).prefix(3), ["06:00", "06:30", "07:00"])
    }

    func testWallClockInstantsResolveGapsAndRepeats() {
        XCTAssertEqual(berlin.instant(CivilTime(year: 2024, month: 10, day: 27, hour: 2, minute: 30)), utc("2024-10-27T00:30:00Z"), "the first 02:30")
        XCTAssertEqual(berlin.instant(CivilTime(year: 2024, month: 3, day: 31, hour: 2, minute: 30)), utc("2024-03-31T01:30:00Z"), "02:30 does not exist: after the jump")
        XCTAssertEqual(berlin.instant(CivilTime(year: 2024, month: 7, day: 1)), utc("2024-06-30T22:00:00Z"))
        XCTAssertNil(ZoneClock(identifier: "Mars/Olympus_Mons"))
        XCTAssertNil(ZoneClock(identifier: String(repeating: "x", count: 100)))
        XCTAssertNil(ZoneClock(identifier: "Europe/../../etc/passwd"))
    }

    func testTheSpecsTimeZoneDrivesTheAxisAndTimeUnits() throws {
        let spec = #"""
        {"timeZone": "Europe/Berlin", "width": 600,
         "data": {"values": [{"t": "2024-03-30T22:00:00Z", "v": 1}, {"t": "2024-03-31T04:00:00Z", "v": 2}]}, "mark": "line",
         "encoding": {"x": {"field": "t", "type": "temporal", "axis": {"tickCount": 6}}, "y": {"field": "v", "type": "quantitative"}}}
        """#
        XCTAssertEqual(Charts.texts(try Charts.svg(spec), role: "tick-label-x"), ["23:00", "Mar 31", "01:00", "03:00", "04:00", "05:00", "06:00"])
        // yearmonthdate truncates to the local date: 03:00 UTC on 10 March is still 9 March in New York.
        let days = #"""
        {"timeZone": "America/New_York", "data": {"values": [{"t": "2024-03-10T03:00:00Z", "v": 1}, {"t": "2024-03-10T12:00:00Z", "v": 2}]}, "mark": "bar",
         "encoding": {"x": {"field": "t", "type": "ordinal", "timeUnit": "yearmonthdate"}, "y": {"field": "v", "type": "quantitative", "aggregate": "sum"},
                      "tooltip": {"field": "t", "type": "temporal", "timeUnit": "yearmonthdate"}}}
        """#
        let out = try Charts.svg(days)
        XCTAssertEqual(Charts.count(out, role: "mark-bar"), 2, "two local days")
        XCTAssertTrue(out.contains("<title>t: 2024-03-09 00:00</title>"), out)
        XCTAssertTrue(out.contains("<title>t: 2024-03-10 00:00</title>"), out)
    }

    func testBadTimeZonesNameTheirPath() {
        let base = #"{"data": {"values": [{"t": 0, "v": 1}]}, "mark": "line", "encoding": {"x": {"field": "t", "type": "temporal"}, "y": {"field": "v", "type": "quantitative"}}, "timeZone": ZONE}"#
        for zone in [#""Mars/Olympus_Mons""#, #""""#, #""Europe/../../etc/passwd""#, "3600", "null"] {
            let error = Charts.refusal(base.replacingOccurrences(of: "ZONE", with: zone))
            XCTAssertEqual(error?.path, "$.timeZone", zone)
        }
        XCTAssertTrue(Charts.refusal(base.replacingOccurrences(of: "ZONE", with: #""Mars/Olympus_Mons""#))?.message.contains("not an IANA time zone") == true)
    }
}
