import Foundation
import PlexusSDK
import PlexusTesting
import PlexusWorkflows
import WorkflowEngine
import XCTest

/// The plugin in-process (TestHost): the API, events, metrics, the shipped definitions, rules.
/// Other plugins' services are registered on the test host's bus as real handlers.
final class WorkflowsPluginTests: XCTestCase {
    static let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("plugins.d/workflows").path
    let ada = TestCaller("ada", roles: ["admin"], tenant: "acme")

    func start(rules: String? = nil) async throws -> TestHost<WorkflowsPlugin> {
        var config = ["definitions_dir": Self.shipped]
        if let rules { config["rules"] = rules }
        return try await TestHost.start(WorkflowsPlugin.self, config: config)
    }

    @PluginActor
    func post(_ host: TestHost<WorkflowsPlugin>, _ path: String, _ body: String, caller: TestCaller? = nil) async throws -> TestResponse {
        try await host.send(.post, path, headers: [("Content-Type", "application/json")], body: Array(body.utf8), caller: caller ?? ada)
    }

    @PluginActor
    func startedID(_ host: TestHost<WorkflowsPlugin>, _ path: String, _ body: String) async throws -> String {
        let response = try await post(host, path, body)
        guard let id = JSON.parse(response.body)?["id"]?.string else { throw TestFailure("no instance id: \(response.status) \(response.text)") }
        return id
    }

    /// Polls the instance until `done` holds for its JSON (at most ~5 s of loop time).
    @PluginActor
    func await_(_ host: TestHost<WorkflowsPlugin>, _ id: String, caller: TestCaller? = nil, until done: (JSON) -> Bool) async throws -> JSON {
        var last: JSON = .null
        for _ in 0..<250 {
            let response = try await host.get("/api/v1/workflows/instances/\(id)", caller: caller ?? ada)
            last = JSON.parse(response.body) ?? .null
            if done(last) { return last }
            await host.advance(.milliseconds(20))
        }
        XCTFail("instance \(id) never reached the expected state: \(last.text.prefix(3000))")
        return last
    }

    func testSagaCompletesThroughTheAPIWithEventsAndMetrics() async throws { try await sagaCompletesThroughTheAPIWithEventsAndMetrics(try await start()) }

    @PluginActor
    func sagaCompletesThroughTheAPIWithEventsAndMetrics(_ host: TestHost<WorkflowsPlugin>) async throws {
        var calls: [String] = []
        for name in ["stock.reserve", "stock.release", "pay.charge"] {
            try host.bus.register(name) { payload in
                calls.append("\(name) \(JSON.parse(payload)?["idempotency_key"]?.string ?? "")")
                return Array(#"{"ok": true, "ref": "r-1"}"#.utf8)
            }
        }
        let created = try await post(host, "/api/v1/workflows/definitions", """
        {"name": "order", "input": ["id"], "steps": [
          {"id": "reserve", "type": "call", "service": "stock.reserve", "input": {"order": "$.input.id"}, "output": "stock",
           "compensate": {"service": "stock.release", "input": {"ref": "$.stock.ref"}}},
          {"id": "charge", "type": "call", "service": "pay.charge", "input": {"order": "$.input.id"}, "output": "payment"}
        ]}
        """)
        XCTAssertEqual(created.status, 201, created.text)
        let started = try await post(host, "/api/v1/workflows/order/start", #"{"input": {"id": "o-1"}}"#)
        XCTAssertEqual(started.status, 201, started.text)
        let id = try XCTUnwrap(JSON.parse(started.body)?["id"]?.string)
        let done = try await await_(host, id) { $0["status"]?.string == "completed" }
        XCTAssertEqual(done["output"]?["payment"]?["ok"], .bool(true))
        XCTAssertEqual(calls, ["stock.reserve \(id):reserve:1", "pay.charge \(id):charge:1"])
        let kinds = done["history"]?.array?.compactMap { $0["kind"]?.string } ?? []
        XCTAssertEqual(kinds, ["started", "step.scheduled", "step.completed", "step.scheduled", "step.completed", "completed"])
        await host.advance(.milliseconds(50))
        XCTAssertEqual(host.events(matching: "workflow.#").map(\.topic),
                       ["workflow.started", "workflow.step.completed", "workflow.step.completed", "workflow.completed"])
        XCTAssertEqual(host.metrics.family("instances_completed_total")?.values.values.reduce(0, +), 1)
        XCTAssertEqual(host.metrics.family("instances_running")?.values.values.first, 0)
        await host.stop()
    }

    func testTenantOnboardingFailsNamingTheMissingWhiteLabelPlugin() async throws { try await tenantOnboardingFailsNamingTheMissingWhiteLabelPlugin(try await start()) }

    @PluginActor
    func tenantOnboardingFailsNamingTheMissingWhiteLabelPlugin(_ host: TestHost<WorkflowsPlugin>) async throws {
        let started = try await post(host, "/api/v1/workflows/tenant-onboarding/start",
                                     #"{"input": {"tenant": "globex", "display_name": "Globex", "contact": "ops@globex.example", "domain": "globex.example", "plan": "pro"}}"#)
        XCTAssertEqual(started.status, 201, started.text)
        let id = try XCTUnwrap(JSON.parse(started.body)?["id"]?.string)
        let done = try await await_(host, id) { $0["status"]?.string == "failed" }
        XCTAssertEqual(done["error"]?.string,
                       "step 'create-tenant': service 'whitelabel.tenants.create' is not offered: plugin 'whitelabel' is not loaded")
        XCTAssertEqual(done["history"]?.array?.filter { $0["kind"]?.string == "step.scheduled" }.count, 1, "a missing plugin is not retried")
        await host.stop()
    }

    func testTenantOnboardingUndoesEverythingInReverseWhenThePlanFails() async throws { try await tenantOnboardingUndoesEverythingInReverseWhenThePlanFails(try await start()) }

    @PluginActor
    func tenantOnboardingUndoesEverythingInReverseWhenThePlanFails(_ host: TestHost<WorkflowsPlugin>) async throws {
        var log: [String] = []
        for name in ["tenants.create", "tenants.delete", "domains.reserve", "domains.release", "apikeys.create", "apikeys.revoke", "plans.reset"] {
            try host.bus.register("whitelabel.\(name)") { _ in log.append(name); return Array(#"{"id": "x"}"#.utf8) }
        }
        try host.bus.register("whitelabel.plans.apply") { _ in log.append("plans.apply"); throw PluginError.serviceFailed("whitelabel.plans.apply", "no such plan 'platinum'") }
        let started = try await post(host, "/api/v1/workflows/tenant-onboarding/start",
                                     #"{"input": {"tenant": "globex", "display_name": "Globex", "contact": "ops@globex.example", "domain": "globex.example", "plan": "platinum"}}"#)
        let id = try XCTUnwrap(JSON.parse(started.body)?["id"]?.string)
        let done = try await await_(host, id) { $0["status"]?.string == "failed" }
        XCTAssertEqual(log, ["tenants.create", "domains.reserve", "apikeys.create", "plans.apply", "apikeys.revoke", "domains.release", "tenants.delete"])
        XCTAssertTrue(done["error"]?.string?.contains("no such plan 'platinum'") ?? false, done.text)
        XCTAssertFalse(log.contains("onboarding.announce"), "nothing announced")
        XCTAssertEqual(host.events(matching: "workflow.compensated").count, 3)
        await host.stop()
    }

    func testTenantOnboardingEndsWithTheWhiteLabelAnnouncement() async throws { try await tenantOnboardingEndsWithTheWhiteLabelAnnouncement(try await start()) }

    @PluginActor
    func tenantOnboardingEndsWithTheWhiteLabelAnnouncement(_ host: TestHost<WorkflowsPlugin>) async throws {
        var asked: [String: String] = [:]
        for name in ["tenants.create", "domains.reserve", "apikeys.create", "plans.apply", "onboarding.announce"] {
            try host.bus.register("whitelabel.\(name)") { payload in
                asked[name] = String(decoding: payload, as: UTF8.self)
                return Array((name == "apikeys.create" ? #"{"id": "k1", "key": "secret"}"# : #"{"done": "\#(name)"}"#).utf8)
            }
        }
        let started = try await post(host, "/api/v1/workflows/tenant-onboarding/start",
                                     #"{"input": {"tenant": "globex", "display_name": "Globex", "contact": "ops@globex.example", "domain": "globex.example", "plan": "pro"}}"#)
        let id = try XCTUnwrap(JSON.parse(started.body)?["id"]?.string)
        let done = try await await_(host, id) { $0["status"]?.string == "completed" }
        XCTAssertEqual(JSON.parse(asked["tenants.create"] ?? "")?["id"]?.string, "globex", asked["tenants.create"] ?? "")
        XCTAssertEqual(JSON.parse(asked["tenants.create"] ?? "")?["display_name"]?.string, "Globex")
        XCTAssertEqual(JSON.parse(asked["onboarding.announce"] ?? "")?["tenant"]?.string, "globex", "the white-label plugin announces tenant.onboarded")
        XCTAssertTrue(done.text.contains("k1"), done.text)
        await host.stop()
    }

    func testBadInputGetsProblemsNamingWhatIsWrong() async throws { try await badInputGetsProblemsNamingWhatIsWrong(try await start()) }

    @PluginActor
    func badInputGetsProblemsNamingWhatIsWrong(_ host: TestHost<WorkflowsPlugin>) async throws {
        let cycle = try await post(host, "/api/v1/workflows/definitions",
                                   #"{"name": "c", "steps": [{"id": "a", "type": "call", "service": "s.a", "next": "b"}, {"id": "b", "type": "call", "service": "s.b", "next": "a"}]}"#)
        XCTAssertEqual(cycle.status, 422)
        XCTAssertTrue(cycle.text.contains("$.steps[1].next: the steps form a cycle"), cycle.text)
        let shared = try await post(host, "/api/v1/workflows/definitions", #"{"name": "tenantless", "steps": [{"id": "a", "type": "fail"}]}"#,
                                    caller: TestCaller("eve"))
        XCTAssertEqual(shared.status, 403, "a caller without a tenant or the admin role cannot write the shared definitions")
        let notJSON = try await post(host, "/api/v1/workflows/definitions", "name: x")
        XCTAssertEqual(notJSON.status, 422, notJSON.text)
        let unknown = try await post(host, "/api/v1/workflows/nothing-here/start", "{}")
        XCTAssertEqual(unknown.status, 404, unknown.text)
        let missingInput = try await post(host, "/api/v1/workflows/tenant-onboarding/start", #"{"input": {"tenant": "x", "display_name": "X", "contact": "ops@x.example"}}"#)
        XCTAssertEqual(missingInput.status, 422)
        XCTAssertTrue(missingInput.text.contains("input.domain"), missingInput.text)
        let extra = try await post(host, "/api/v1/workflows/tenant-onboarding/start", #"{"inptu": {}}"#)
        XCTAssertEqual(extra.status, 400, extra.text)
        let other = try await host.get("/api/v1/workflows/instances/wf-nope", caller: ada)
        XCTAssertEqual(other.status, 404)
        await host.stop()
    }

    func testIdempotentStartSignalCancelAndAReplacedDefinition() async throws { try await idempotentStartSignalCancelAndAReplacedDefinition(try await start()) }

    @PluginActor
    func idempotentStartSignalCancelAndAReplacedDefinition(_ host: TestHost<WorkflowsPlugin>) async throws {
        var undone = 0
        try host.bus.register("svc.a") { _ in Array("{}".utf8) }
        try host.bus.register("svc.undo") { _ in undone += 1; return [] }
        let v1 = #"{"name": "gate", "steps": [{"id": "a", "type": "call", "service": "svc.a", "compensate": {"service": "svc.undo"}}, {"id": "wait", "type": "wait_signal", "signal": "go", "output": "go"}]}"#
        let status151 = try await post(host, "/api/v1/workflows/definitions", v1).status
        XCTAssertEqual(status151, 201)
        let first = try await post(host, "/api/v1/workflows/gate/start", #"{"idempotency_key": "k-1"}"#)
        let again = try await post(host, "/api/v1/workflows/gate/start", #"{"idempotency_key": "k-1"}"#)
        XCTAssertEqual(first.status, 201)
        XCTAssertEqual(again.status, 200)
        let id = try XCTUnwrap(JSON.parse(first.body)?["id"]?.string)
        XCTAssertEqual(JSON.parse(again.body)?["id"]?.string, id)
        _ = try await await_(host, id) { $0["current"] == .array([.string("wait")]) }
        // Version 2 replaces the definition while the instance runs: the instance keeps version 1.
        let v2 = #"{"name": "gate", "steps": [{"id": "other", "type": "call", "service": "svc.a"}]}"#
        let replaced = try await post(host, "/api/v1/workflows/definitions", v2)
        XCTAssertEqual(JSON.parse(replaced.body)?["version"], .number(2))
        let status163 = try await post(host, "/api/v1/workflows/instances/\(id)/signal/go", #"{"by": "ada"}"#).status
        XCTAssertEqual(status163, 202)
        let done = try await await_(host, id) { $0["status"]?.string == "completed" }
        XCTAssertEqual(done["version"], .number(1))
        XCTAssertEqual(done["output"]?["go"], JSON.parse(#"{"by": "ada"}"#))
        let status167 = try await post(host, "/api/v1/workflows/instances/\(id)/signal/go", "{}").status
        XCTAssertEqual(status167, 409, "over: no more signals")

        let second = try await post(host, "/api/v1/workflows/definitions", v1)
        XCTAssertEqual(JSON.parse(second.body)?["version"], .number(3))
        let cancelMe = try await startedID(host, "/api/v1/workflows/gate/start", "{}")
        _ = try await await_(host, cancelMe) { $0["current"] == .array([.string("wait")]) }
        let status173 = try await post(host, "/api/v1/workflows/instances/\(cancelMe)/cancel", "").status
        XCTAssertEqual(status173, 202)
        let cancelled = try await await_(host, cancelMe) { $0["status"]?.string == "cancelled" }
        XCTAssertEqual(undone, 1)
        XCTAssertEqual(cancelled["history"]?.array?.filter { $0["kind"]?.string == "compensated" }.count, 1)
        // Another tenant does not see the instance.
        let stranger = try await host.get("/api/v1/workflows/instances/\(id)", caller: TestCaller("eve", tenant: "initech"))
        XCTAssertEqual(stranger.status, 404)
        await host.stop()
    }

    func testASignalRepeatedWithItsIdempotencyKeyIsRecordedOnce() async throws { try await signalRepeatedWithItsIdempotencyKeyIsRecordedOnce(try await start()) }

    /// `Idempotency-Key` on a signal: a repeat with the same key is answered 202 and not recorded
    /// again (also once the instance is over); the key with another body is 422; a malformed key
    /// is 400 naming the header; without a key every signal is recorded (at-least-once).
    @PluginActor
    func signalRepeatedWithItsIdempotencyKeyIsRecordedOnce(_ host: TestHost<WorkflowsPlugin>) async throws {
        let gate = #"{"name": "keyed", "steps": [{"id": "wait", "type": "wait_signal", "signal": "go", "output": "go"}]}"#
        let created = try await post(host, "/api/v1/workflows/definitions", gate).status
        XCTAssertEqual(created, 201)
        let id = try await startedID(host, "/api/v1/workflows/keyed/start", "{}")
        _ = try await await_(host, id) { $0["current"] == .array([.string("wait")]) }
        func signal(_ name: String, _ body: String, key: String?) async throws -> TestResponse {
            var headers = [("Content-Type", "application/json")]
            if let key { headers.append(("Idempotency-Key", key)) }
            return try await host.send(.post, "/api/v1/workflows/instances/\(id)/signal/\(name)", headers: headers, body: Array(body.utf8), caller: ada)
        }
        for bad in [String(repeating: "k", count: 129), "two words", "a/b", "k;1"] {
            let answer = try await signal("note", "{}", key: bad)
            XCTAssertEqual(answer.status, 400, bad)
            XCTAssertTrue(answer.text.contains("Idempotency-Key"), answer.text)
        }
        for _ in 1...3 {
            let status = try await signal("note", #"{"n": 1}"#, key: "note-1").status
            XCTAssertEqual(status, 202)
        }
        let reused = try await signal("note", #"{"n": 2}"#, key: "note-1")
        XCTAssertEqual(reused.status, 422, reused.text)
        XCTAssertTrue(reused.text.contains("note-1"), reused.text)
        for _ in 1...2 {
            let status = try await signal("note", #"{"n": 3}"#, key: nil).status
            XCTAssertEqual(status, 202)
        }
        let go = try await signal("go", #"{"by": "ada"}"#, key: "go-1").status
        XCTAssertEqual(go, 202)
        let done = try await await_(host, id) { $0["status"]?.string == "completed" }
        let again = try await signal("go", #"{"by": "ada"}"#, key: "go-1").status
        XCTAssertEqual(again, 202, "a keyed repeat after the end is answered as the first")
        let unkeyed = try await signal("go", #"{"by": "ada"}"#, key: nil).status
        XCTAssertEqual(unkeyed, 409)
        let signals = done["history"]?.array?.filter { $0["kind"]?.string == "signal.received" } ?? []
        XCTAssertEqual(signals.filter { $0["key"]?.string == "note-1" }.count, 1, "the keyed signal is recorded once")
        XCTAssertEqual(signals.filter { $0["name"]?.string == "note" }.count, 3, "one keyed, two without a key")
        XCTAssertEqual(signals.filter { $0["name"]?.string == "go" }.count, 1)
        await host.stop()
    }

    func testAServiceThatTimesOutOrAnswersGarbageIsRetriedThenFails() async throws { try await aServiceThatTimesOutOrAnswersGarbageIsRetriedThenFails(try await start()) }

    @PluginActor
    func aServiceThatTimesOutOrAnswersGarbageIsRetriedThenFails(_ host: TestHost<WorkflowsPlugin>) async throws {
        var attempts = 0
        try host.bus.register("svc.garbage") { _ in attempts += 1; return Array("<html>".utf8) }
        let text = #"{"name": "g", "steps": [{"id": "a", "type": "call", "service": "svc.garbage", "retry": {"max_attempts": 3, "backoff_ms": 5, "retry_on": ["garbage"]}}]}"#
        let status189 = try await post(host, "/api/v1/workflows/definitions", text).status
        XCTAssertEqual(status189, 201)
        let id = try await startedID(host, "/api/v1/workflows/g/start", "{}")
        let done = try await await_(host, id) { $0["status"]?.string == "failed" }
        XCTAssertEqual(attempts, 3)
        XCTAssertTrue(done["error"]?.string?.contains("answered something that is not JSON") ?? false, done.text)

        try host.bus.register("svc.slow") { _ in await host.context.sleep(for: .milliseconds(500)); return Array("{}".utf8) }
        let slow = #"{"name": "s", "steps": [{"id": "a", "type": "call", "service": "svc.slow", "timeout_ms": 30}]}"#
        let status197 = try await post(host, "/api/v1/workflows/definitions", slow).status
        XCTAssertEqual(status197, 201)
        let sid = try await startedID(host, "/api/v1/workflows/s/start", "{}")
        let timedOut = try await await_(host, sid) { $0["status"]?.string == "failed" }
        XCTAssertEqual(timedOut["error"]?.string, "step 'a': service 'svc.slow' did not answer within 30 ms")
        await host.stop()
    }

    func testRoutingRulesFromConfigAndAdminRouteWithMetrics() async throws { try await routingRulesFromConfigAndAdminRouteWithMetrics(try await start(rules: #"[{"name": "big", "match": "orders.created", "when": {"path": "$.total", "op": "gte", "value": 100}, "pick": ["id"], "topic": "routed.big"}]"#)) }

    @PluginActor
    func routingRulesFromConfigAndAdminRouteWithMetrics(_ host: TestHost<WorkflowsPlugin>) async throws {
        let loop = try await host.send(.put, "/api/v1/workflows/rules/echo", body: Array(#"{"match": "routed.#", "topic": "routed.echo"}"#.utf8), caller: ada)
        XCTAssertEqual(loop.status, 422)
        XCTAssertTrue(loop.text.contains("would loop"), loop.text)
        let batch = try await host.send(.put, "/api/v1/workflows/rules/batch", body: Array(#"{"match": "clicks", "topic": "routed.clicks", "aggregate": {"count": 3}}"#.utf8), caller: ada)
        XCTAssertEqual(batch.status, 200, batch.text)
        let notAdmin = try await host.send(.put, "/api/v1/workflows/rules/x", body: Array("{}".utf8), caller: TestCaller("eve", tenant: "acme"))
        XCTAssertEqual(notAdmin.status, 403)
        try host.publish("orders.created", payload: Array(#"{"id": "o1", "total": 150, "card": "4111"}"#.utf8))
        try host.publish("orders.created", payload: Array(#"{"id": "o2", "total": 5}"#.utf8))
        for n in 0..<7 { try host.publish("clicks", payload: Array(#"{"n": \#(n)}"#.utf8)) }
        await host.advance(.milliseconds(50))
        XCTAssertEqual(host.events(matching: "routed.big").map { JSON.parse($0.payload) }, [JSON.parse(#"{"id": "o1"}"#)])
        XCTAssertEqual(host.events(matching: "routed.clicks").count, 2, "7 clicks: two batches of 3, one open")
        XCTAssertEqual(host.metrics.family("rule_matched_total")?.values.values.reduce(0, +), 8)
        XCTAssertEqual(host.metrics.family("rule_batched_total")?.values.values.reduce(0, +), 7)
        let listed = JSON.parse(try await host.get("/api/v1/workflows/rules", caller: ada).body)?.array ?? []
        XCTAssertEqual(listed.compactMap { $0["name"]?.string }, ["big", "batch"])
        await host.stop()
    }
}

/// Timers, waits for events and child workflows, through the plugin's glue.
final class WorkflowsWaitsTests: XCTestCase {
    let ada = TestCaller("ada", roles: ["admin"])

    func testSleepWaitForEventAndChildWorkflow() async throws {
        try await run(try await TestHost.start(WorkflowsPlugin.self, config: ["definitions_dir": "/nonexistent"]))
    }

    @PluginActor
    func run(_ host: TestHost<WorkflowsPlugin>) async throws {
        func post(_ path: String, _ body: String) async throws -> JSON {
            let response = try await host.send(.post, path, headers: [("Content-Type", "application/json")], body: Array(body.utf8), caller: ada)
            XCTAssertLessThan(response.status, 300, response.text)
            return JSON.parse(response.body) ?? .null
        }
        func wait(_ id: String, _ done: (JSON) -> Bool) async throws -> JSON {
            var last: JSON = .null
            for _ in 0..<250 {
                last = JSON.parse(try await host.get("/api/v1/workflows/instances/\(id)", caller: ada).body) ?? .null
                if done(last) { return last }
                await host.advance(.milliseconds(20))
            }
            XCTFail("\(id) stuck: \(last.text.prefix(2000))")
            return last
        }
        try host.bus.register("svc.double") { payload in
            Array(JSON.object(["n": .number((JSON.parse(payload)?["n"]?.number ?? 0) * 2)]).bytes)
        }
        _ = try await post("/api/v1/workflows/definitions", #"{"name": "doubler", "input": ["n"], "steps": [{"id": "d", "type": "call", "service": "svc.double", "input": {"n": "$.input.n"}, "output": "r"}], "output": "$.r.n"}"#)
        _ = try await post("/api/v1/workflows/definitions", """
        {"name": "parent", "input": ["order"], "steps": [
          {"id": "nap", "type": "sleep", "for_ms": 30},
          {"id": "paid", "type": "wait_event", "topic": "payments.received", "correlate": {"event": "$.order", "equals": "$.input.order"},
           "timeout_ms": 5000, "output": "payment"},
          {"id": "child", "type": "child", "workflow": "doubler", "input": {"n": "$.payment.amount"}, "output": "doubled"}
        ]}
        """)
        let started = try await post("/api/v1/workflows/parent/start", #"{"input": {"order": "o-7"}}"#)
        let id = try XCTUnwrap(started["id"]?.string)
        _ = try await wait(id) { $0["current"] == .array([.string("paid")]) }
        try host.publish("payments.received", payload: Array(#"{"order": "o-6", "amount": 1}"#.utf8))
        try host.publish("payments.received", payload: Array(#"{"order": "o-7", "amount": 21}"#.utf8))
        let done = try await wait(id) { $0["status"]?.string == "completed" }
        XCTAssertEqual(done["output"]?["payment"]?["amount"], .number(21), "the uncorrelated event was ignored")
        XCTAssertEqual(done["output"]?["doubled"], .number(42))
        let kinds = done["history"]?.array?.compactMap { $0["kind"]?.string } ?? []
        XCTAssertEqual(kinds, ["started", "timer.started", "timer.fired", "wait.started", "event.received", "child.started", "step.completed", "completed"])
        let childResponse = try await host.get("/api/v1/workflows/instances/\(id).child", caller: ada)
        let child = JSON.parse(childResponse.body)
        XCTAssertEqual(child?["status"]?.string, "completed")
        XCTAssertEqual(child?["parent"]?.string, id)

        // A cancelled parent cancels its running child; both compensate their own steps.
        var undone: [String] = []
        try host.bus.register("svc.mark") { _ in Array("{}".utf8) }
        try host.bus.register("svc.unmark") { payload in undone.append(JSON.parse(payload)?["who"]?.string ?? ""); return [] }
        _ = try await post("/api/v1/workflows/definitions", #"{"name": "held", "steps": [{"id": "m", "type": "call", "service": "svc.mark", "compensate": {"service": "svc.unmark", "input": {"who": "child"}}}, {"id": "w", "type": "wait_signal", "signal": "go"}]}"#)
        _ = try await post("/api/v1/workflows/definitions", #"{"name": "holder", "steps": [{"id": "m", "type": "call", "service": "svc.mark", "compensate": {"service": "svc.unmark", "input": {"who": "parent"}}}, {"id": "kid", "type": "child", "workflow": "held"}]}"#)
        let holderStart = try await post("/api/v1/workflows/holder/start", "{}")
        let holder = try XCTUnwrap(holderStart["id"]?.string)
        _ = try await wait("\(holder).kid") { $0["current"] == .array([.string("w")]) }
        _ = try await post("/api/v1/workflows/instances/\(holder)/cancel", "")
        _ = try await wait(holder) { $0["status"]?.string == "cancelled" }
        let kid = try await wait("\(holder).kid") { $0["status"]?.string == "cancelled" }
        XCTAssertEqual(kid["error"]?.string, "parent \(holder) was cancelled")
        XCTAssertEqual(Set(undone), ["parent", "child"])
        await host.stop()
    }
}

/// A history commit that fails is retried; nothing is acted on before its entries are durable.
final class WorkflowsCommitFailureTests: XCTestCase {
    func testAFailedCommitIsRetriedAndTheInstanceCompletes() async throws {
        try await run(try await TestHost.start(WorkflowsPlugin.self, config: ["definitions_dir": "/nonexistent"]))
    }

    @PluginActor
    func run(_ host: TestHost<WorkflowsPlugin>) async throws {
        let admin = TestCaller("root", roles: ["admin"])
        var calls = 0
        try host.bus.register("svc.slow") { _ in calls += 1; await host.context.sleep(for: .milliseconds(100)); return Array("{}".utf8) }
        let definition = #"{"name": "fragile", "steps": [{"id": "a", "type": "call", "service": "svc.slow"}, {"id": "b", "type": "call", "service": "svc.slow"}]}"#
        let posted = try await host.send(.post, "/api/v1/workflows/definitions", body: Array(definition.utf8), caller: admin)
        XCTAssertEqual(posted.status, 201)
        let started = try await host.send(.post, "/api/v1/workflows/fragile/start", body: Array("{}".utf8), caller: admin)
        let id = try XCTUnwrap(JSON.parse(started.body)?["id"]?.string)
        // While step a runs, the history table goes away: its outcome cannot be written.
        await host.advance(.milliseconds(30))
        _ = try await host.sql.execute("ALTER TABLE history RENAME TO history_away", [])
        await host.advance(.milliseconds(400))
        XCTAssertEqual(calls, 1, "b is not called while a's outcome is not durable")
        XCTAssertTrue(host.log.records.contains { $0.contains("history commit failed; retrying") }, "the failure is logged")
        _ = try await host.sql.execute("ALTER TABLE history_away RENAME TO history", [])
        var status = ""
        for _ in 0..<200 {
            let response = try await host.get("/api/v1/workflows/instances/\(id)", caller: admin)
            status = JSON.parse(response.body)?["status"]?.string ?? ""
            if status == "completed" { break }
            await host.advance(.milliseconds(25))
        }
        XCTAssertEqual(status, "completed")
        XCTAssertEqual(calls, 2)
        let kinds = try await host.sql.query("SELECT entry FROM history WHERE instance = ? ORDER BY seq", [.text(id)])
            .compactMap { $0[0].text.flatMap(JSON.parse)?["kind"]?.string }
        XCTAssertEqual(kinds, ["started", "step.scheduled", "step.completed", "step.scheduled", "step.completed", "completed"])
        await host.stop()
    }
}
