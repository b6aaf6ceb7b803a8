import Foundation
import PlexusSDK
import PlexusTesting
import XCTest

/// A plugin defined in the test itself: it subscribes, publishes, offers a service, keeps a
/// timer and migrates a table, so the in-memory drivers are exercised through the public SDK.
@PluginActor
final class ProbePlugin: Plugin {
    static let manifest = PluginManifest(name: "probe", version: "1.0.0", description: "test: in-memory drivers",
                                         publishes: [TopicDeclaration("orders.+.created")])

    let context: PluginContext
    var seen: [String] = []
    var ticks = 0
    var failuresLeft = 0
    var durableSeen: [String] = []

    init(context: PluginContext) throws {
        self.context = context
        try context.bus.subscribe("orders.+.created") { [unowned self] event in seen.append(event.topic) }
        try context.bus.subscribe("orders.#", group: "audit") { [unowned self] event in
            durableSeen.append(event.id)
            if failuresLeft > 0 {
                failuresLeft -= 1
                throw HTTPError.unavailable("not yet")
            }
        }
        try context.services.register("probe.echo") { payload in Array(payload.reversed()) }
        try context.services.register("probe.slow") { [unowned self] payload in
            await self.context.sleep(for: .seconds(5))
            return payload
        }
        try context.routes.post("/api/v1/orders/:id", options: .public) { [unowned self] request async throws in
            let id = try await self.context.bus.publish("orders.\(request.parameters["id"]!).created", json: ["id": request.parameters["id"]!])
            return .text(id)
        }
        try context.routes.post("/api/v1/orders/:id/ship", options: .public) { [unowned self] request async throws in
            try await self.context.bus.publish("orders.\(request.parameters["id"]!).shipped", payload: [])
            return .empty()
        }
    }

    func start() async throws {
        try await context.storage.migrate([(1, "CREATE TABLE items(name TEXT PRIMARY KEY)")])
        context.timers.schedule(after: .milliseconds(5), repeating: .milliseconds(5)) { [unowned self] in ticks += 1 }
    }
}

final class TestHostDriverTests: XCTestCase {
    func testAlertsAreRecordedAndBadOnesRefused() {
        let metrics = InMemoryMetrics()
        XCTAssertNoThrow(try metrics.raiseAlert(.critical, name: "disk.full", detail: "97% used").get())
        XCTAssertThrowsError(try metrics.raiseAlert(.warning, name: "", detail: nil).get())
        XCTAssertThrowsError(try metrics.raiseAlert(.warning, name: String(repeating: "n", count: 129), detail: nil).get())
        XCTAssertThrowsError(try metrics.raiseAlert(.info, name: "x", detail: String(repeating: "d", count: 1025)).get())
        XCTAssertEqual(metrics.alerts.map(\.name), ["disk.full"])
        XCTAssertEqual(metrics.alerts.first?.severity, .critical)
        XCTAssertEqual(metrics.alerts.first?.detail, "97% used")
    }

    func testPublishedEventsReachSubscribersAndAreObservable() async throws {
        let host = try await TestHost.start(ProbePlugin.self)
        let response = try await host.send(.post, "/api/v1/orders/42")
        XCTAssertEqual(response.status, 200, response.text)
        let response2 = try await host.send(.post, "/api/v1/orders/7")
        XCTAssertEqual(response2.status, 200, response2.text)
        try await host.publish("orders.7.shipped", payload: [])
        await host.advance()
        let seen = await host.plugin.seen
        XCTAssertEqual(seen, ["orders.42.created", "orders.7.created"], "'+' matches one segment only")
        let created = await host.events(matching: "orders.+.created")
        XCTAssertEqual(created.map(\.topic), ["orders.42.created", "orders.7.created"])
        XCTAssertEqual(created.first?.source, "probe")
        XCTAssertEqual(try created.first?.decode([String: String].self), ["id": "42"])
    }

    func testBadTopicsAndReservedPrefixesAreRefused() async throws {
        let host = try await TestHost.start(ProbePlugin.self)
        for topic in ["", "a..b", "has space", "orders.+", "system.boot", String(repeating: "x", count: 257)] {
            do {
                try await host.publish(topic, payload: [])
                XCTFail("'\(topic)' was accepted")
            } catch let error as PluginError {
                XCTAssertTrue(error.description.contains("refused"), error.description)
            }
        }
        // The plugin publishes only what its manifest declares; a client not what the plugin declares.
        let undeclared = try await host.send(.post, "/api/v1/orders/7/ship")
        XCTAssertEqual(undeclared.status, 500, undeclared.text)
        let log = await host.log.records
        XCTAssertTrue(log.contains { $0.contains("is not declared by plugin 'probe'") }, "\(log)")
        do {
            try await host.publish("orders.9.created", payload: [])
            XCTFail("a client published on the plugin's declared topic")
        } catch let error as PluginError {
            XCTAssertTrue(error.description.contains("declares 'orders.+.created'"), error.description)
        }
        XCTAssertTrue(InMemoryBus.matches("tenant.#", "tenant"))
        XCTAssertTrue(InMemoryBus.matches("tenant.#", "tenant.acme.orders"))
        XCTAssertFalse(InMemoryBus.matches("tenant.+", "tenant.acme.orders"))
    }

    func testDurableDeliveryIsRetriedThenDeadLettered() async throws {
        let host = try await TestHost.start(ProbePlugin.self)
        await host.setFailures(2)
        let first = try await host.publish("orders.1.placed", payload: [], durable: true)
        await host.advance(.milliseconds(20))
        var attempts = await host.plugin.durableSeen
        XCTAssertEqual(attempts, [first, first, first], "two failures, then acknowledged")
        await host.setFailures(100)
        let second = try await host.publish("orders.2.placed", payload: [], durable: true)
        await host.advance(.milliseconds(20))
        attempts = await host.plugin.durableSeen
        XCTAssertEqual(attempts.filter { $0 == second }.count, 5)
        let dead = await host.bus.deadLetters
        XCTAssertEqual(dead.map(\.event.id), [second])
        XCTAssertEqual(dead.first?.group, "audit")
    }

    func testServicesAnswerAndTimeOut() async throws {
        let host = try await TestHost.start(ProbePlugin.self)
        let reply = try await host.call("probe.echo", payload: [1, 2, 3])
        XCTAssertEqual(reply, [3, 2, 1])
        do {
            _ = try await host.call("probe.slow", payload: [], timeout: .milliseconds(20))
            XCTFail("the slow service answered within 20 ms")
        } catch let error as PluginError {
            XCTAssertTrue(error.description.contains("no reply within"), error.description)
        }
        do {
            _ = try await host.call("probe.missing", payload: [])
            XCTFail("a missing service answered")
        } catch let error as PluginError {
            XCTAssertTrue(error.description.contains("probe.missing"), error.description)
        }
    }

    func testTimersFireUntilStopped() async throws {
        let host = try await TestHost.start(ProbePlugin.self)
        await host.advance(.milliseconds(40))
        let ticks = await host.plugin.ticks
        XCTAssertGreaterThanOrEqual(ticks, 2)
        await host.stop()
        let atStop = await host.plugin.ticks
        try await Task.sleep(for: .milliseconds(30))
        let later = await host.plugin.ticks
        XCTAssertEqual(atStop, later, "a stopped plugin's timers are cancelled")
    }

    func testKeyValueFollowsTheRuntimesRules() async throws {
        let store = await InMemoryKeyValue()
        let one = try await store.put("a/1", [1], ttl: nil, expectedVersion: 0)
        XCTAssertEqual(one, 1)
        do {
            _ = try await store.put("a/1", [2], ttl: nil, expectedVersion: 0)
            XCTFail("create-only put replaced an entry")
        } catch let failure as StorageFailure {
            XCTAssertEqual(failure.kind, .conflict)
            XCTAssertEqual(failure.currentVersion, 1)
            XCTAssertEqual(failure.status, 409)
        }
        _ = try await store.put("a/2", [2], ttl: 0.02, expectedVersion: nil)
        _ = try await store.put("b/1", [3], ttl: nil, expectedVersion: nil)
        var keys = try await store.list(prefix: "a/", limit: 10, after: nil).map(\.key)
        XCTAssertEqual(keys, ["a/1", "a/2"])
        keys = try await store.list(prefix: "", limit: 10, after: "a/1").map(\.key)
        XCTAssertEqual(keys, ["a/2", "b/1"])
        try await Task.sleep(for: .milliseconds(40))
        let expired = try await store.get("a/2")
        XCTAssertNil(expired, "an entry past its TTL is gone")
        do {
            _ = try await store.put("c", [], ttl: -1, expectedVersion: nil)
            XCTFail("a negative TTL was accepted")
        } catch let failure as StorageFailure {
            XCTAssertEqual(failure.kind, .misuse)
        }
    }

    func testSQLIsRealSQLiteWithTheSandboxAndMigrationRules() async throws {
        let host = try await TestHost.start(ProbePlugin.self)
        try await host.plugin.context.storage.execute("INSERT INTO items(name) VALUES (?)", ["kettle"])
        let rows = try await host.plugin.context.storage.query("SELECT name, length(name) AS size FROM items")
        XCTAssertEqual(rows.first?["size"].integer, 6, "SQLite's own functions run")
        let again = try await host.sql.migrate([(1, "CREATE TABLE items(name TEXT PRIMARY KEY)"), (2, "CREATE INDEX by_name ON items(name)")])
        XCTAssertEqual(again, [2], "migration 1 was applied at start")
        for migrations in [[(1, "CREATE TABLE items(name TEXT)")], [(2, "SELECT 1")], [(1, "x"), (1, "x")]] {
            do {
                _ = try await host.sql.migrate(migrations)
                XCTFail("\(migrations) was accepted")
            } catch let failure as StorageFailure {
                XCTAssertEqual(failure.kind, .invalidMigration, failure.message)
            }
        }
        do {
            try await host.sql.transaction([("INSERT INTO items VALUES ('a')", []), ("INSERT INTO items VALUES ('kettle')", [])])
            XCTFail("a transaction with a constraint violation committed")
        } catch let failure as StorageFailure {
            XCTAssertEqual(failure.kind, .constraint)
        }
        let count = try await host.sql.query("SELECT count(*) FROM items", [])
        XCTAssertEqual(count.first?[0].integer, 1, "the failed transaction left nothing behind")
        do {
            _ = try await host.sql.query("SELECT * FROM items WHERE name = ?", [])
            XCTFail("a missing parameter was accepted")
        } catch let failure as StorageFailure {
            XCTAssertEqual(failure.kind, .misuse)
        }
    }
}

extension TestHost where P == ProbePlugin {
    func setFailures(_ count: Int) { plugin.failuresLeft = count }
}
