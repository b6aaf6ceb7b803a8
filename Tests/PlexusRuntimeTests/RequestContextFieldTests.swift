import CLibUV
import Glibc
@testable import PlexusRuntime
import XCTest

/// The head's common fields, found in one pass, are the fields a lookup by name finds.
final class RequestContextFieldTests: XCTestCase {
    private func text(_ bytes: UnsafeRawBufferPointer?) -> String? { bytes.map { String(decoding: $0, as: UTF8.self) } }

    func testCommonFieldsAreTheFirstOfTheirNameWhateverTheCase() {
        let request = PipelineFixture.request("GET", "/x", headers: [
            ("HOST", "a.example"), ("User-Agent", "first"), ("user-agent", "second"), ("Authorization", ""),
            ("X-Request-Id", "abc"), ("X-Api-Key-Extra", "no"), ("referer", "https://r.example/"),
        ])
        XCTAssertEqual(text(request.header(.host)), "a.example")
        XCTAssertEqual(text(request.header(.userAgent)), "first")
        XCTAssertEqual(text(request.header(.authorization)), "", "a field with an empty value is present")
        XCTAssertEqual(text(request.header(.requestID)), "abc")
        XCTAssertNil(request.header(.apiKey), "a longer name that starts alike is another field")
        XCTAssertEqual(text(request.header(.referer)), "https://r.example/")
        XCTAssertNil(request.header(.expect))
        XCTAssertNil(request.header(.origin))
        let pairs: [(RequestContext.CommonField, StaticString)] = [(.host, "host"), (.userAgent, "user-agent"), (.authorization, "authorization"),
                                                                  (.requestID, "x-request-id"), (.referer, "referer"), (.expect, "expect")]
        for (field, name) in pairs {
            XCTAssertEqual(text(request.header(field)), text(request.header(name)), "\(name)")
        }
    }

    func testALaterFieldIsFoundAfterAnEarlierLookupAndAResetForgetsThem() {
        let request = PipelineFixture.request("GET", "/x", headers: [("Host", "a")])
        XCTAssertNil(request.header(.expect))
        let start = request.head.count
        request.head.append(Array("Expect100-continue".utf8))
        request.headerRanges.append((start..<start + 6, start + 6..<request.head.count))
        XCTAssertEqual(text(request.header(.expect)), "100-continue")
        request.resetContext(token: 2)
        XCTAssertNil(request.header(.host))
        XCTAssertNil(request.header(.expect))
    }

    func testThePluginRouteFollowsTheTarget() throws {
        let plugins = PipelineFixture.Plugins()
        let route = try XCTUnwrap(plugins.add("GET", "/x", for: plugins.plugin("p")).0)
        let request = PipelineFixture.request("GET", "/x")
        XCTAssertNil(request.route)
        request.target = .plugin(route)
        XCTAssertTrue(request.route === route)
        request.target = nil
        XCTAssertNil(request.route)
        request.target = .plugin(route)
        request.resetContext(token: 2)
        XCTAssertNil(request.route)
    }
}

/// The access log's wall clock, derived from the monotonic clock, tells the time.
final class WallClockFromMonotonicTests: XCTestCase {
    func testItAgreesWithTheRealtimeClockNowAndAfterASecondOfMonotonicTime() {
        var clock = WallClockFromMonotonic()
        var real = timespec()
        clock_gettime(CLOCK_REALTIME, &real)
        let derived = clock.wallTime(at: uv_hrtime())
        let difference = abs((derived.tv_sec - real.tv_sec) * 1_000_000_000 + (derived.tv_nsec - real.tv_nsec))
        XCTAssertLessThan(difference, 1_000_000_000, "within a second of the realtime clock")
        XCTAssertTrue((0..<1_000_000_000).contains(derived.tv_nsec))
        // A record stamped 1.5 s of monotonic time later reads the realtime clock again.
        let later = clock.wallTime(at: uv_hrtime() + 1_500_000_000)
        XCTAssertGreaterThanOrEqual(later.tv_sec, derived.tv_sec)
    }
}
