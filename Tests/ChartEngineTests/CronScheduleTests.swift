@testable import ChartEngine
import Foundation
import XCTest

/// Cron schedules in a time zone, for scheduled dashboard reports.
final class CronScheduleTests: XCTestCase {
    func date(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    func testNextRunsInTheTimeZone() throws {
        // 07:00 on weekdays in Berlin: Saturday 2024-03-02 12:00 UTC -> Monday 07:00 CET (06:00 UTC).
        let weekdays = try CronSchedule("0 7 * * 1-5", timeZone: "Europe/Berlin", path: "$.schedule")
        XCTAssertEqual(weekdays.next(after: date("2024-03-02T12:00:00Z")), date("2024-03-04T06:00:00Z"))
        // After the spring change (31 March) 07:00 is CEST, 05:00 UTC.
        XCTAssertEqual(weekdays.next(after: date("2024-03-29T12:00:00Z")), date("2024-04-01T05:00:00Z"))
        let every15 = try CronSchedule("*/15 * * * *", timeZone: "UTC", path: "$")
        XCTAssertEqual(every15.next(after: date("2024-01-01T10:07:00Z")), date("2024-01-01T10:15:00Z"))
        XCTAssertEqual(every15.next(after: date("2024-01-01T10:15:00Z")), date("2024-01-01T10:30:00Z"), "strictly after")
        // Day of month or day of week (classic cron): the 1st, or any Sunday (7 is Sunday too).
        let either = try CronSchedule("30 8 1 * 7", timeZone: "UTC", path: "$")
        XCTAssertEqual(either.next(after: date("2024-03-02T00:00:00Z")), date("2024-03-03T08:30:00Z"))
        XCTAssertEqual(try CronSchedule("0 0 1 1,7 *", timeZone: "UTC", path: "$").next(after: date("2024-02-01T00:00:00Z")), date("2024-07-01T00:00:00Z"))
        // 02:30 does not exist in Berlin on 31 March 2024: that day is skipped.
        let night = try CronSchedule("30 2 * * *", timeZone: "Europe/Berlin", path: "$")
        XCTAssertEqual(night.next(after: date("2024-03-30T02:00:00Z")), date("2024-04-01T00:30:00Z"))
        XCTAssertNil(try CronSchedule("0 0 31 2 *", timeZone: "UTC", path: "$").next(after: date("2024-01-01T00:00:00Z")))
    }

    func testBadSchedulesNameTheField() {
        for (cron, zone, path, fragment) in [("0 7 * *", "UTC", "$.cron", "4 fields"), ("60 * * * *", "UTC", "$.cron", "minute field"),
                                             ("* 5-2 * * *", "UTC", "$.cron", "hour field"), ("* * * JAN *", "UTC", "$.cron", "month field"),
                                             ("*/0 * * * *", "UTC", "$.cron", "minute field"), ("* * * * 8", "UTC", "$.cron", "day of week"),
                                             ("0 7 * * *", "Mars/Olympus", "$.time_zone", "not a known time zone")] {
            XCTAssertThrowsError(try CronSchedule(cron, timeZone: zone, path: "$"), cron) { error in
                XCTAssertEqual((error as? ChartError)?.path, path, cron)
                XCTAssertTrue((error as? ChartError)?.message.contains(fragment) == true, "\(cron): \(error)")
            }
        }
        XCTAssertThrowsError(try DashboardSpec.parse(Array(#"{"panels": [{"chart": "a"}], "schedule": {"cron": "bad"}}"#.utf8))) {
            XCTAssertEqual(($0 as? ChartError)?.path, "$.schedule.cron")
        }
        let scheduled = try? DashboardSpec.parse(Array(#"{"panels": [{"chart": "a"}], "schedule": {"cron": "0 7 * * 1-5", "time_zone": "Europe/Berlin"}}"#.utf8))
        XCTAssertEqual(scheduled?.schedule?.timeZone.identifier, "Europe/Berlin")
        XCTAssertEqual(try? DashboardSpec.parse(Array((scheduled?.json ?? "").utf8)), scheduled, "the schedule is stored")
    }
}
