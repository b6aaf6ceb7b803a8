import Foundation
@testable import PlexusRuntime
import XCTest

/// Counters in a generation's shared region, carried by the master to the next generation.
final class CounterCarryTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("carry-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func testSeriesIdentityRoundTripsLabelsWithAnyText() throws {
        let labels = [("route", "/api/v1/x/:id"), ("note", "a \"quoted\" = value, with\nnewline")]
        let encoded = CounterSeries.encode(name: "plexus_x_total", help: "Help, with = and \"quotes\"", labels: labels)
        let decoded = try XCTUnwrap(CounterSeries.decode(encoded))
        XCTAssertEqual(decoded.name, "plexus_x_total")
        XCTAssertEqual(decoded.help, "Help, with = and \"quotes\"")
        XCTAssertEqual(decoded.labels.map(\.0), labels.map(\.0))
        XCTAssertEqual(decoded.labels.map(\.1), labels.map(\.1))
        XCTAssertNil(CounterSeries.decode(""))
    }

    func testAWorkersCountsReachTheNextGenerationWithoutBeingCountedTwice() throws {
        let master = try CounterRegion.shared()
        let carry = CounterCarry(dataDirectory: directory)

        // Generation 1 counts through its own mapping of the region, then ends (however it ends).
        let first = RuntimeMetrics()
        first.attach(region: try CounterRegion(attaching: dup(master.descriptor)), carriedFile: carry.file)
        first.counter("plexus_test_total", [("kind", "a")], help: "Test").increment(by: Int64(5))
        first.counter("plexus_test_total", [("kind", "b")], help: "Test").increment()
        first.counter("plexus_own_total", [], help: "Not carried", carried: false).increment(by: Int64(9))
        carry.absorb(master)

        // Generation 2 starts from the carried totals and counts on top; its own region holds only its own counts.
        let secondRegion = try CounterRegion.shared()
        let second = RuntimeMetrics()
        second.attach(region: secondRegion, carriedFile: carry.file)
        second.counter("plexus_test_total", [("kind", "a")], help: "Test").increment(by: Int64(2))
        let text = String(decoding: second.render(), as: UTF8.self)
        XCTAssertTrue(text.contains(#"plexus_test_total{kind="a"} 7"#), text)
        XCTAssertTrue(text.contains(#"plexus_test_total{kind="b"} 1"#), text)
        XCTAssertFalse(text.contains("plexus_own_total"), "a counter kept out of the region is not carried:\n\(text)")
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: secondRegion.series.map { (CounterSeries.decode($0.series)!.labels.first?.1 ?? "", $0.value) }),
                       ["a": 2, "b": 0], "carried counts are shown, not written back into the region")

        // Rendering again adds nothing twice; a later absorb adds only the growth.
        XCTAssertTrue(String(decoding: second.render(), as: UTF8.self).contains(#"plexus_test_total{kind="a"} 7"#))
        carry.absorb(secondRegion)
        XCTAssertEqual(CounterCarry.read(carry.file)[CounterSeries.encode(name: "plexus_test_total", help: "Test", labels: [("kind", "a")])], 7)
    }

    func testAFullRegionStillCountsInTheProcess() throws {
        let region = try CounterRegion.shared()
        for index in 0..<Int(CounterRegion.capacity) { XCTAssertNotNil(region.claim("series \(index)")) }
        XCTAssertNil(region.claim("one too many"))
        XCTAssertNil(region.claim(String(repeating: "x", count: 600)), "a series too long for a slot is not carried")
        let metrics = RuntimeMetrics()
        metrics.attach(region: region, carriedFile: directory.appendingPathComponent("none.json"))
        metrics.counter("plexus_late_total", [], help: "Late").increment()
        XCTAssertTrue(String(decoding: metrics.render(), as: UTF8.self).contains("plexus_late_total 1"))
    }

    func testProcStatFieldsAreCountedAfterTheCommandName() throws {
        // The command name may hold spaces and parentheses.
        let line = "4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 3 0 12345 987654321 4321 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0"
        let fields = try XCTUnwrap(ProcessMetrics.parseStat(line))
        XCTAssertEqual(fields.utime, 250)
        XCTAssertEqual(fields.stime, 75)
        XCTAssertEqual(fields.startTicks, 12345)
        XCTAssertEqual(fields.vsize, 987654321)
        XCTAssertEqual(fields.rssPages, 4321)
        XCTAssertNil(ProcessMetrics.parseStat("4242 no parentheses"))
        let own = try XCTUnwrap(ProcessMetrics.read())
        XCTAssertGreaterThan(own.residentBytes, 0)
        XCTAssertGreaterThan(own.startTimeSeconds, Date().timeIntervalSince1970 - 3 * 24 * 3600)
    }
}
