@testable import PlexusRuntime
import XCTest

final class RouteTrieTests: XCTestCase {
    private func trie(_ routes: [(String, String)]) throws -> RouteTrie<String> {
        RouteTrie(try routes.map { ($0.0, try RoutePattern($0.1), "\($0.0) \($0.1)") })
    }

    private func found(_ match: RouteTrie<String>.Match) -> (String, [String: String])? {
        guard case let .found(target, parameters) = match else { return nil }
        return (target, Dictionary(uniqueKeysWithValues: parameters.map { ($0.name, $0.value) }))
    }

    func testLiteralParameterAndWildcard() throws {
        let routes = try trie([("GET", "/api/v1/hello"), ("GET", "/api/v1/hello/:name"), ("GET", "/files/*"), ("POST", "/api/v1/hello")])
        XCTAssertEqual(found(routes.match(method: "GET", path: "/api/v1/hello"))?.0, "GET /api/v1/hello")
        let named = try XCTUnwrap(found(routes.match(method: "GET", path: "/api/v1/hello/ada")))
        XCTAssertEqual(named.0, "GET /api/v1/hello/:name")
        XCTAssertEqual(named.1, ["name": "ada"])
        let file = try XCTUnwrap(found(routes.match(method: "GET", path: "/files/a/b/c.txt")))
        XCTAssertEqual(file.1, ["*": "a/b/c.txt"])
        XCTAssertEqual(found(routes.match(method: "GET", path: "/files/"))?.1, ["*": ""])
    }

    func testLiteralBeatsParameterAndBacktracks() throws {
        let routes = try trie([("GET", "/users/me/settings"), ("GET", "/users/:id/profile")])
        XCTAssertEqual(found(routes.match(method: "GET", path: "/users/me/settings"))?.0, "GET /users/me/settings")
        // "me" matches the literal branch first, which dead-ends; the parameter branch must be tried.
        XCTAssertEqual(found(routes.match(method: "GET", path: "/users/me/profile"))?.1, ["id": "me"])
    }

    func testMethodNotAllowedListsAllowedMethodsWithHead() throws {
        let routes = try trie([("GET", "/a"), ("POST", "/a")])
        guard case let .methodNotAllowed(allowed) = routes.match(method: "DELETE", path: "/a") else { return XCTFail() }
        XCTAssertEqual(allowed, ["GET", "HEAD", "POST"])
        XCTAssertEqual(found(routes.match(method: "HEAD", path: "/a"))?.0, "GET /a", "HEAD falls back to GET")
    }

    func testNotFound() throws {
        let routes = try trie([("GET", "/a/:b")])
        guard case .notFound = routes.match(method: "GET", path: "/a") else { return XCTFail() }
        guard case .notFound = routes.match(method: "GET", path: "/a//") else { return XCTFail("an empty segment is not a parameter value") }
        guard case .notFound = routes.match(method: "GET", path: "/zzz") else { return XCTFail() }
    }

    func testTrailingSlashIsTolerated() throws {
        let routes = try trie([("GET", "/a/b")])
        XCTAssertNotNil(found(routes.match(method: "GET", path: "/a/b/")))
    }
}

final class RoutePatternTests: XCTestCase {
    func testRejectsMalformedPatterns() {
        for bad in ["no-slash", "/a//b", "/a/*/b", "/a/:", "/a/:x/:x", "/a/b?c", "/a/:na-me"] {
            XCTAssertThrowsError(try RoutePattern(bad), bad)
        }
    }

    func testShapeErasesParameterNames() throws {
        XCTAssertEqual(try RoutePattern("/a/:id/b").shape, try RoutePattern("/a/:name/b").shape)
        XCTAssertNotEqual(try RoutePattern("/a/:id").shape, try RoutePattern("/a/*").shape)
        XCTAssertEqual(try RoutePattern("/").segments, [])
    }
}
