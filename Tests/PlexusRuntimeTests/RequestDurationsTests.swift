@testable import PlexusRuntime
import XCTest

/// The loop-local request histogram: observations land in the right bucket (bounds inclusive),
/// and the text is the Prometheus histogram format the library wrote for the same family.
final class RequestDurationsTests: XCTestCase {
    func testObservationsAreCountedCumulativelyWithInclusiveBounds() {
        let durations = RequestDurations(bounds: [0.0001, 0.001, 1], help: "Time from request start to response")
        let series = durations.series(plugin: "hello", route: "/api/v1/hello")
        XCTAssertTrue(durations.series(plugin: "hello", route: "/api/v1/hello") === series, "one series per label set")
        for micros: UInt64 in [0, 100, 101, 1_000, 999_999, 1_000_001] { series.record(microseconds: micros) }
        var text: [UInt8] = []
        durations.render(into: &text)
        let name = "plexus_http_request_duration_seconds"
        let labels = #"plugin="hello",route="/api/v1/hello""#
        XCTAssertEqual(String(decoding: text, as: UTF8.self), """
            # HELP \(name) Time from request start to response
            # TYPE \(name) histogram
            \(name)_bucket{\(labels),le="0.0001"} 2
            \(name)_bucket{\(labels),le="0.001"} 4
            \(name)_bucket{\(labels),le="1.0"} 5
            \(name)_bucket{\(labels),le="+Inf"} 6
            \(name)_sum{\(labels)} 2.001201
            \(name)_count{\(labels)} 6

            """)
    }

    func testLabelValuesAreEscapedAndAnEmptyFamilyWritesNothing() {
        let durations = RequestDurations(bounds: RuntimeMetrics.latencyBuckets, help: "h")
        var text: [UInt8] = []
        durations.render(into: &text)
        XCTAssertTrue(text.isEmpty, "no series: the catalogue writes the family's HELP and TYPE instead")
        durations.series(plugin: "p\"q", route: "/a\\b\nc").record(microseconds: 5)
        durations.render(into: &text)
        let rendered = String(decoding: text, as: UTF8.self)
        XCTAssertTrue(rendered.contains(#"_count{plugin="p\"q",route="/a\\b\nc"} 1"#), rendered)
        XCTAssertEqual(rendered.components(separatedBy: "_bucket{").count - 1, RuntimeMetrics.latencyBuckets.count + 1)
    }

    func testMetricsRenderIncludesTheFamilyOnce() {
        let metrics = RuntimeMetrics()
        let before = String(decoding: metrics.render(), as: UTF8.self)
        XCTAssertEqual(before.components(separatedBy: "# TYPE plexus_http_request_duration_seconds histogram").count - 1, 1)
        metrics.recordRequest(plugin: "-", route: "unmatched", method: "GET", status: 404, microseconds: 250)
        let after = String(decoding: metrics.render(), as: UTF8.self)
        XCTAssertEqual(after.components(separatedBy: "# TYPE plexus_http_request_duration_seconds histogram").count - 1, 1, after)
        XCTAssertTrue(after.contains(#"plexus_http_request_duration_seconds_bucket{plugin="-",route="unmatched",le="0.00025"} 1"#), after)
        XCTAssertTrue(after.contains(#"plexus_http_requests_total{plugin="-",route="unmatched",method="GET",status="404"} 1"#), after)
    }
}
