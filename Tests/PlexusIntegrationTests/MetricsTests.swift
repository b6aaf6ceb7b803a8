import Foundation
import PlexusTesting
import XCTest

/// `/metrics` as an operator's Prometheus sees it: families from the start, counter naming,
/// `process_*` and build info, and counters that survive worker reloads and crashes.
final class MetricsTests: XCTestCase {
    /// The families the README documents, with their types.
    static let documented: [(name: String, type: String)] = [
        ("plexus_http_requests_total", "counter"), ("plexus_http_request_duration_seconds", "histogram"),
        ("plexus_gateway_refusals_total", "counter"), ("plexus_access_log_dropped_total", "counter"), ("plexus_circuit_state", "gauge"), ("plexus_circuit_transitions_total", "counter"),
        ("plexus_bus_published_total", "counter"), ("plexus_bus_dropped_total", "counter"), ("plexus_bus_delivered_total", "counter"),
        ("plexus_bus_queue_depth", "gauge"), ("plexus_bus_acked_total", "counter"), ("plexus_bus_retried_total", "counter"),
        ("plexus_bus_undeclared_publishes_total", "counter"),
        ("plexus_eventlog_appended_events_total", "counter"), ("plexus_eventlog_transactions_total", "counter"),
        ("plexus_storage_operation_seconds", "histogram"), ("plexus_plugin_state", "gauge"), ("plexus_plugin_health", "gauge"),
        ("plexus_loop_lag_seconds", "histogram"), ("plexus_loop_lag_max_seconds", "gauge"), ("plexus_worker_recycles_total", "counter"),
        ("plexus_build_info", "gauge"), ("process_cpu_seconds_total", "counter"), ("process_resident_memory_bytes", "gauge"),
        ("process_virtual_memory_bytes", "gauge"), ("process_open_fds", "gauge"), ("process_max_fds", "gauge"),
        ("process_start_time_seconds", "gauge"),
    ]

    private func types(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("# TYPE ") {
            let parts = line.split(separator: " ")
            if parts.count == 4 { result[String(parts[2])] = String(parts[3]) }
        }
        return result
    }

    /// The value of the sample line that starts with `series` (name and labels as written).
    private func value(_ text: String, _ series: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
    }

    func testEveryDocumentedFamilyIsThereFromTheFirstScrapeAndCountersAreCounters() throws {
        let plexus = try Repository.startPlexus()
        let text = try plexus.get("/metrics").text
        let found = types(text)
        for family in Self.documented {
            XCTAssertEqual(found[family.name], family.type, "\(family.name) missing or mistyped in the first scrape:\n\(text)")
        }
        for (name, type) in found {
            XCTAssertEqual(name.hasSuffix("_total"), type == "counter", "\(name) is a \(type): counters, and only counters, end in _total")
        }
        XCTAssertEqual(value(text, #"plexus_bus_published_total{durable="true"}"#), 0, text)
        XCTAssertEqual(value(text, #"plexus_gateway_refusals_total{status="429"}"#), 0, text)
        XCTAssertEqual(value(text, "plexus_access_log_dropped_total"), 0, text)
        XCTAssertEqual(value(text, #"plexus_worker_recycles_total{reason="memory_ceiling"}"#), 0, text)
        XCTAssertNotNil(text.range(of: #"plexus_build_info\{version="[0-9.]+",abi="1\.[0-9]+"\} 1"#, options: .regularExpression), text)

        let now = Date().timeIntervalSince1970
        let started = try XCTUnwrap(value(text, "process_start_time_seconds"), text)
        XCTAssertLessThanOrEqual(started, now + 2)
        XCTAssertGreaterThan(started, now - 120, "the worker started moments ago: \(started) vs \(now)")
        XCTAssertGreaterThan(try XCTUnwrap(value(text, "process_cpu_seconds_total")), 0)
        XCTAssertGreaterThan(try XCTUnwrap(value(text, "process_resident_memory_bytes")), 1_000_000)
        XCTAssertGreaterThan(try XCTUnwrap(value(text, "process_virtual_memory_bytes")), try XCTUnwrap(value(text, "process_resident_memory_bytes")))
        XCTAssertGreaterThan(try XCTUnwrap(value(text, "process_open_fds")), 3)
        XCTAssertGreaterThan(try XCTUnwrap(value(text, "process_max_fds")), try XCTUnwrap(value(text, "process_open_fds")))
    }

    private func waitForLog(_ plexus: TestRuntime, _ pattern: String, seconds: Double = 20) -> String? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let log = plexus.log
            if let range = log.range(of: pattern, options: .regularExpression) { return String(log[range]) }
            usleep(50_000)
        }
        return nil
    }

    /// The series' value once it reaches `expected` (the master adds an ended generation right
    /// after it is reaped), or its last value after a few seconds.
    private func metric(_ plexus: TestRuntime, _ series: String, reaching expected: Double) throws -> Double? {
        var last: Double?
        for _ in 0..<100 {
            last = value(try plexus.get("/metrics").text, series)
            if last == expected { break }
            usleep(50_000)
        }
        return last
    }

    func testCountersSurviveAReloadAndAWorkerKilledWithSIGKILL() throws {
        let plexus = try Repository.startPlexus()
        let series = #"plexus_http_requests_total{plugin="hello",route="/api/v1/hello/:name",method="GET",status="200"}"#
        for _ in 0..<5 { XCTAssertEqual(try plexus.get("/api/v1/hello/one").status, 200) }

        kill(plexus.process.processIdentifier, SIGHUP)
        XCTAssertNotNil(waitForLog(plexus, "reload complete: generation 2 serving"), plexus.log)
        XCTAssertNotNil(waitForLog(plexus, "previous worker generation stopped"), plexus.log)
        for _ in 0..<2 { XCTAssertEqual(try plexus.get("/api/v1/hello/two").status, 200) }
        XCTAssertEqual(try metric(plexus, series, reaching: 7), 7, "generation 2 adds generation 1's five requests to its own two")

        // The hardest crash: no handler runs, nothing is written on the way out.
        let started = try XCTUnwrap(waitForLog(plexus, #"generation=2[^\n]*worker=[0-9]+[^\n]*worker started"#), plexus.log)
        let pid = try XCTUnwrap(started.range(of: #"worker=[0-9]+"#, options: .regularExpression).map { Int32(started[$0].dropFirst("worker=".count))! })
        kill(pid, SIGKILL)
        XCTAssertNotNil(waitForLog(plexus, #"generation=3[^\n]*worker started"#), plexus.log)
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if let response = try? plexus.get("/api/v1/hello/three"), response.status == 200 { break }
            usleep(50_000)
        }
        XCTAssertEqual(try metric(plexus, series, reaching: 8), 8, "the killed generation's seven requests are carried into generation 3")
        XCTAssertEqual(plexus.stop(), 0)
    }
}
