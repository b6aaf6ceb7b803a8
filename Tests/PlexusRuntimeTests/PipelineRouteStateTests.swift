import CPlexusABI
import PlexusPolicy
@testable import PlexusRuntime
import XCTest

/// The stages that keep per-route state in their own tables (resilience, access log), and the
/// one route registry built-ins and plugins share.
final class PipelineRouteStateTests: XCTestCase {
    private typealias Fixture = PipelineFixture

    func testAPluginRouteOnABuiltinPathIsRefusedNamingTheBuiltin() throws {
        let plugins = Fixture.Plugins()
        plugins.registry.addBuiltin("GET", "/openapi.json", BuiltinEndpoint(access: .public) { _ in BuiltinResponse(status: 200, headers: [], body: []) })
        let docs = plugins.plugin("docs")
        for method in ["GET", "POST"] {
            let (route, failure) = plugins.add(method, "/openapi.json", for: docs, public: true)
            XCTAssertNil(route)
            let refusal = try XCTUnwrap(failure)
            XCTAssertEqual(refusal.status, PLEXUS_E_REFUSED)
            XCTAssertTrue(refusal.description.contains("\(method) /openapi.json of plugin 'docs'"), refusal.description)
            XCTAssertTrue(refusal.description.contains("built-in endpoint GET /openapi.json"), refusal.description)
        }
        XCTAssertEqual(plugins.add("GET", "/admin/tools", for: docs).1?.status, PLEXUS_E_REFUSED, "a reserved prefix stays refused")
        XCTAssertNotNil(plugins.add("GET", "/openapi.yaml", for: docs).0, "a path next to a built-in is the plugin's")
        let served = plugins.registry.mount()
        XCTAssertEqual(served.count, 2)
        XCTAssertEqual(Set(served.map(\.id)).count, 2, "every route has its own id")
    }

    func testTheOpenAPIDocumentComesFromTheRegistryAlone() throws {
        let plugins = Fixture.Plugins()
        let answer: (HTTPExchange, @escaping (BuiltinResponse) -> Void) -> Void = { _, _ in }
        plugins.registry.addBuiltin("POST", "/api/v1/events/tickets", BuiltinEndpoint(access: .authenticated, summary: "A ticket", successStatus: 201, deferred: answer))
        plugins.registry.addBuiltin("GET", "/api/v1/events/stream", BuiltinEndpoint(access: .authenticated, streams: true, deferred: answer))
        plugins.registry.addBuiltin("GET", "/admin/plugins", BuiltinEndpoint(access: .admin, summary: "Plugins", deferred: answer))
        plugins.add("GET", "/api/v1/shop/items", for: plugins.plugin("shop"), public: true)
        plugins.add("GET", "/api/v1/gone", for: plugins.plugin("gone"))
        _ = plugins.registry.mount()
        let text = String(decoding: OpenAPIDocument.render(routes: plugins.registry, adminRole: "root", runtimeVersion: "9.9.9"), as: UTF8.self)
        let document = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let paths = try XCTUnwrap(document["paths"] as? [String: Any])
        XCTAssertEqual(Set(paths.keys), ["/api/v1/events/tickets", "/admin/plugins", "/api/v1/shop/items", "/api/v1/gone"], "streams are left out")
        let tickets = try XCTUnwrap((paths["/api/v1/events/tickets"] as? [String: Any])?["post"] as? [String: Any])
        XCTAssertEqual(tickets["summary"] as? String, "A ticket")
        XCTAssertNotNil((tickets["responses"] as? [String: Any])?["201"], "\(tickets)")
        XCTAssertTrue(text.contains("root"), "an admin endpoint names the admin role")
    }

    func testRouteIdsAreDenseAndShared() throws {
        let plugins = Fixture.Plugins()
        plugins.registry.addBuiltin("GET", "/health", BuiltinEndpoint(access: .public) { _ in BuiltinResponse(status: 200, headers: [], body: []) })
        let first = try XCTUnwrap(plugins.add("GET", "/a", for: plugins.plugin("one")).0)
        let second = try XCTUnwrap(plugins.add("GET", "/b", for: plugins.plugin("two")).0)
        XCTAssertEqual([plugins.registry.builtins[0].id, first.id, second.id], [0, 1, 2])
        XCTAssertEqual(plugins.registry.idCount, 3)
    }

    func testTheBulkheadBoundsRequestsInFlightPerPlugin() throws {
        var settings = GatewaySettings()
        settings.resilience.maxConcurrent = 2
        let stage = ResilienceStage(settings: settings, logger: .init(label: "test"))
        let plugins = Fixture.Plugins()
        let solver = plugins.plugin("solver")
        let a = try XCTUnwrap(plugins.add("POST", "/solve", for: solver).0)
        let b = try XCTUnwrap(plugins.add("GET", "/status", for: solver).0)
        stage.guardRoutes([a, b])
        let first = Fixture.request("POST", "/solve", token: 1), second = Fixture.request("GET", "/status", token: 2)
        first.target = .plugin(a)
        second.target = .plugin(b)
        XCTAssertNil(stage.enter(first, route: a, now: 100, loopNow: 0))
        XCTAssertNil(stage.enter(second, route: b, now: 100, loopNow: 0))
        let third = Fixture.request("POST", "/solve", token: 3)
        third.target = .plugin(a)
        let refusal = try XCTUnwrap(stage.enter(third, route: a, now: 100, loopNow: 0))
        XCTAssertEqual(refusal.status, 503)
        XCTAssertTrue(refusal.detail.contains("bulkhead"), refusal.detail)
        stage.leave(first, success: true, now: 101)
        XCTAssertFalse(first.guarded)
        XCTAssertNil(stage.enter(third, route: a, now: 101, loopNow: 0), "a slot given back is free again")
    }

    func testTheBreakerOpensOnFailuresOfItsRouteOnly() throws {
        var settings = GatewaySettings()
        settings.resilience.breakerMinimumRequests = 4
        settings.resilience.breakerFailureRatio = 0.5
        settings.resilience.breakerOpenSeconds = 30
        let stage = ResilienceStage(settings: settings, logger: .init(label: "test"))
        var changes: [String] = []
        stage.circuitChanged = { route, _, to, _ in changes.append("\(route.method) \(route.pattern) \(to.rawValue)") }
        let plugins = Fixture.Plugins()
        let flaky = plugins.plugin("flaky")
        let failing = try XCTUnwrap(plugins.add("GET", "/fail", for: flaky).0)
        let healthy = try XCTUnwrap(plugins.add("GET", "/ok", for: flaky).0)
        stage.guardRoutes([failing, healthy])
        for token in 1...4 {
            let request = Fixture.request("GET", "/fail", token: UInt64(token))
            request.target = .plugin(failing)
            XCTAssertNil(stage.enter(request, route: failing, now: 100, loopNow: 0))
            stage.leave(request, success: false, now: 100)
        }
        XCTAssertEqual(changes, ["GET /fail open"])
        let refused = Fixture.request("GET", "/fail", token: 9)
        refused.target = .plugin(failing)
        XCTAssertTrue(try XCTUnwrap(stage.enter(refused, route: failing, now: 101, loopNow: 0)).detail.contains("circuit of GET /fail"))
        let other = Fixture.request("GET", "/ok", token: 10)
        other.target = .plugin(healthy)
        XCTAssertNil(stage.enter(other, route: healthy, now: 101, loopNow: 0), "another route's breaker is its own")
    }

    func testDeadlinesExpireInOrderAndOnlyPastDue() throws {
        var settings = GatewaySettings()
        settings.resilience.timeoutMilliseconds = 1_000
        let stage = ResilienceStage(settings: settings, logger: .init(label: "test"))
        let plugins = Fixture.Plugins()
        let plugin = plugins.plugin("slow")
        let slow = try XCTUnwrap(plugins.add("GET", "/slow", for: plugin).0)
        let quick = try XCTUnwrap(plugins.add("GET", "/quick", for: plugin, timeoutMilliseconds: 200).0)
        stage.guardRoutes([slow, quick])
        XCTAssertEqual(stage.timeoutMilliseconds(of: quick), 200, "a route's declared timeout wins over the default")
        let requests = [(slow, UInt64(10)), (quick, 20), (slow, 30)].enumerated().map { index, entry -> RequestContext in
            let request = Fixture.request("GET", entry.0.pattern.text, token: UInt64(index + 1))
            request.target = .plugin(entry.0)
            XCTAssertNil(stage.enter(request, route: entry.0, now: 100, loopNow: entry.1))
            return request
        }
        XCTAssertEqual(requests.map(\.deadline), [1_010, 220, 1_030])
        var expired: [UInt64] = []
        stage.expireDeadlines(loopNow: 500) { token, _ in expired.append(token) }
        XCTAssertEqual(expired, [2])
        stage.expireDeadlines(loopNow: 1_020) { token, _ in expired.append(token) }
        XCTAssertEqual(expired, [2, 1])
    }

    func testTheAccessLogStageCountsEachRouteInItsOwnSeries() throws {
        let metrics = RuntimeMetrics()
        let stage = AccessLogStage(metrics: metrics)
        let plugins = Fixture.Plugins()
        let route = try XCTUnwrap(plugins.add("GET", "/items/:id", for: plugins.plugin("shop")).0)
        for (token, status) in [(1, 200), (2, 200), (3, 404)] {
            let request = Fixture.request("GET", "/items/\(token)", token: UInt64(token))
            request.target = .plugin(route)
            request.status = status
            stage.record(request, bytes: 10)
        }
        let unmatched = Fixture.request("GET", "/nowhere")
        unmatched.status = 404
        stage.record(unmatched, bytes: 10)
        let text = String(decoding: metrics.render(), as: UTF8.self)
        func count(_ labels: [String]) -> String? {
            text.split(separator: "\n").first { line in
                line.hasPrefix("plexus_http_requests_total{") && labels.allSatisfy { line.contains($0) }
            }.flatMap { $0.split(separator: " ").last.map(String.init) }
        }
        XCTAssertEqual(count([#"plugin="shop""#, #"route="/items/:id""#, #"status="200""#]), "2", text)
        XCTAssertEqual(count([#"plugin="shop""#, #"route="/items/:id""#, #"status="404""#]), "1", text)
        XCTAssertTrue(text.contains(#"route="unmatched""#), text)
    }
}
