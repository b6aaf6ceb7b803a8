@testable import PlexusRuntime
import XCTest

final class RouteCacheTests: XCTestCase {
    func testAKeptRouteIsFoundForItsMethodAndPathOnly() {
        let cache = RouteCache<String>()
        XCTAssertNil(cache.target(method: "GET", path: "/api/v1/hello"))
        cache.keep("hello", method: "GET", path: "/api/v1/hello")
        XCTAssertEqual(cache.target(method: "GET", path: "/api/v1/hello"), "hello")
        XCTAssertNil(cache.target(method: "POST", path: "/api/v1/hello"), "another method is routed again")
        XCTAssertNil(cache.target(method: "GET", path: "/api/v1/hello/"), "another raw path is routed again")
        XCTAssertNil(cache.target(method: "GET", path: "/api/v1/hellp"))
    }

    func testLongPathsAreNotKept() {
        let cache = RouteCache<String>()
        let long = "/" + String(repeating: "a", count: RouteCache<String>.longestPath)
        cache.keep("long", method: "GET", path: long)
        XCTAssertNil(cache.target(method: "GET", path: long))
        let fits = "/" + String(repeating: "a", count: RouteCache<String>.longestPath - 1)
        cache.keep("fits", method: "GET", path: fits)
        XCTAssertEqual(cache.target(method: "GET", path: fits), "fits")
    }

    func testManyDistinctPathsKeepTheCacheBoundedAndAnswersRight() {
        // A client sending endless distinct paths: every answer is either the right target or a miss.
        let cache = RouteCache<String>()
        for index in 0..<10_000 { cache.keep("t\(index)", method: "GET", path: "/p/\(index)") }
        var kept = 0
        for index in 0..<10_000 {
            if let target = cache.target(method: "GET", path: "/p/\(index)") {
                XCTAssertEqual(target, "t\(index)")
                kept += 1
            }
        }
        XCTAssertLessThanOrEqual(kept, RouteCache<String>.slotCount)
        XCTAssertGreaterThan(kept, 0)
    }

    /// The pipeline's answers with the cache are the trie's: a path routed twice gets the same
    /// target, and a path with a parameter is routed by the trie each time (its value differs).
    func testThePipelineRoutesARepeatedPathAsTheTrieDoes() async throws {
        let routes = RouteTrie<String>([("GET", try RoutePattern("/a/b"), "ab"), ("GET", try RoutePattern("/a/:x"), "ax")])
        let cache = RouteCache<String>()
        func route(_ path: String) -> RouteTrie<String>.Match {
            if let target = cache.target(method: "GET", path: path) { return .found(target, parameters: []) }
            let match = routes.match(method: "GET", path: path[...])
            if case let .found(target, parameters) = match, parameters.isEmpty { cache.keep(target, method: "GET", path: path) }
            return match
        }
        for _ in 0..<3 {
            guard case .found("ab", let none) = route("/a/b"), none.isEmpty else { return XCTFail() }
            guard case .found("ax", let captured) = route("/a/c") else { return XCTFail() }
            XCTAssertEqual(captured.first?.value, "c")
        }
        XCTAssertNil(cache.target(method: "GET", path: "/a/c"), "a route that captured a parameter is never kept")
    }
}

final class DeadlineQueuesTests: XCTestCase {
    func testEntriesOfSeveralTimeoutsExpireInDeadlineOrderPerTimeout() {
        var queues = DeadlineQueues()
        // Alternating timeouts: the shortcut to the last queue must not put an entry in the wrong one.
        queues.add(token: 1, deadline: 100, timeout: 100)
        queues.add(token: 2, deadline: 1_000, timeout: 1_000)
        queues.add(token: 3, deadline: 110, timeout: 100)
        queues.add(token: 4, deadline: 120, timeout: 100)
        queues.add(token: 5, deadline: 1_010, timeout: 1_000)
        var expired: [UInt64] = []
        queues.expire(now: 115) { token, _ in expired.append(token) }
        XCTAssertEqual(expired, [1, 3])
        expired = []
        queues.expire(now: 1_005) { token, _ in expired.append(token) }
        XCTAssertEqual(expired.sorted(), [2, 4])
        queues.add(token: 6, deadline: 1_200, timeout: 100)
        expired = []
        queues.expire(now: 5_000) { token, _ in expired.append(token) }
        XCTAssertEqual(expired.sorted(), [5, 6])
    }
}
