import Foundation
import PlexusTesting
import XCTest

/// The workflows plugin over the real binary: durable history across SIGKILL of the whole
/// supervised server (mid-step and mid-compensation), and the shipped flows against the plugins present.
final class WorkflowsLiveTests: XCTestCase {
    var work: URL!
    var callLog: String { work.appendingPathComponent("calls.txt").path }

    override func setUpWithError() throws {
        work = FileManager.default.temporaryDirectory.appendingPathComponent("plexus-workflows-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: work) }

    func start(_ extraPlugins: [String] = [], rules: String? = nil, cFixtures: [String] = []) throws -> TestRuntime {
        let shipped = Repository.root.appendingPathComponent("plugins.d/workflows").path
        var configs = ["workflows": "definitions_dir = \"\(shipped)\"\n" + (rules.map { "rules = '''\($0)'''\n" } ?? ""),
                       "wfprobe": "call_log = \"\(callLog)\"\n"]
        if extraPlugins.contains("libPlexusCompliance.so") {
            configs["compliance"] = "packs_dir = \"\(Repository.root.appendingPathComponent("plugins.d/compliance").path)\"\n"
        }
        return try Repository.startPlexus(swiftPlugins: ["libPlexusWorkflows.so", "libPlexusFixtureWorkflowProbe.so"] + extraPlugins, cFixtures: cFixtures,
                                          pluginConfigs: configs, workDirectory: work)
    }

    func post(_ plexus: TestRuntime, _ path: String, _ body: String) throws -> (Int, [String: Any]) {
        let response = try plexus.request("POST", path, headers: "Content-Type: application/json\r\n", body: Array(body.utf8))
        return (response.status, (try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]) ?? ["text": response.text])
    }

    func instance(_ plexus: TestRuntime, _ id: String, until done: ([String: Any]) -> Bool, seconds: Double = 30) throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(seconds)
        var last: [String: Any] = [:]
        while Date() < deadline {
            if let response = try? plexus.get("/api/v1/workflows/instances/\(id)"), response.status == 200 {
                last = (try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]) ?? [:]
                if done(last) { return last }
            }
            usleep(100_000)
        }
        throw TestFailure("instance \(id) never got there: \(last)\n\(plexus.log.suffix(3000))")
    }

    func waitForLog(_ text: String, seconds: Double = 20) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if ((try? String(contentsOfFile: callLog, encoding: .utf8)) ?? "").contains(text) { return }
            usleep(50_000)
        }
        throw TestFailure("the call log never showed '\(text)': \((try? String(contentsOfFile: callLog, encoding: .utf8)) ?? "")")
    }

    var logLines: [String] { ((try? String(contentsOfFile: callLog, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init) }

    func kinds(_ object: [String: Any], _ kind: String, step: String? = nil) -> [[String: Any]] {
        ((object["history"] as? [[String: Any]]) ?? []).filter { $0["kind"] as? String == kind && (step == nil || $0["step"] as? String == step) }
    }

    func testSIGKILLMidStepResumesFromHistoryWithTheSameIdempotencyKey() throws {
        var plexus: TestRuntime? = try start()
        let (created, answer) = try post(plexus!, "/api/v1/workflows/definitions", """
        {"name": "crashy", "steps": [
          {"id": "a", "type": "call", "service": "wfprobe.do", "input": {"tag": "a"}, "compensate": {"service": "wfprobe.do", "input": {"tag": "undo-a"}}},
          {"id": "b", "type": "call", "service": "wfprobe.do", "input": {"tag": "b", "sleep_ms": 3000}, "timeout_ms": 20000, "output": "rb"},
          {"id": "c", "type": "call", "service": "wfprobe.do", "input": {"tag": "c"}}
        ]}
        """)
        XCTAssertEqual(created, 201, "\(answer)")
        let (status, started) = try post(plexus!, "/api/v1/workflows/crashy/start", "{}")
        XCTAssertEqual(status, 201, "\(started)")
        let id = try XCTUnwrap(started["id"] as? String)
        try waitForLog("start b \(id):b:1")
        kill(plexus!.process.processIdentifier, SIGKILL)
        plexus!.process.waitUntilExit()
        XCTAssertFalse(logLines.contains("done b \(id):b:1"), "killed before b answered")
        plexus = try start()
        defer { _ = plexus?.stop() }
        let done = try instance(plexus!, id) { $0["status"] as? String == "completed" }
        XCTAssertEqual(kinds(done, "step.scheduled", step: "b").count, 1, "b was scheduled once: the resumed run is the same attempt")
        XCTAssertEqual(kinds(done, "step.completed", step: "b").count, 1)
        XCTAssertEqual(kinds(done, "step.completed", step: "a").count, 1)
        XCTAssertEqual(kinds(done, "compensated").count, 0)
        XCTAssertEqual(logLines.filter { $0 == "start b \(id):b:1" }.count, 2, "at least once: b ran again with the same key\n\(logLines)")
        XCTAssertEqual(logLines.filter { $0.hasPrefix("start a ") }.count, 1, "a's recorded reply was replayed, not re-run")
        XCTAssertEqual(((done["output"] as? [String: Any])?["rb"] as? [String: Any])?["key"] as? String, "\(id):b:1",
                       "the reply recorded is the re-run's, under the attempt's key")
    }

    func testSIGKILLMidCompensationRunsEachCompensationExactlyOnceInTheHistory() throws {
        var plexus: TestRuntime? = try start()
        let (created, answer) = try post(plexus!, "/api/v1/workflows/definitions", """
        {"name": "undo", "steps": [
          {"id": "a", "type": "call", "service": "wfprobe.do", "input": {"tag": "a"}, "compensate": {"service": "wfprobe.do", "input": {"tag": "undo-a"}}},
          {"id": "b", "type": "call", "service": "wfprobe.do", "input": {"tag": "b"},
           "compensate": {"service": "wfprobe.do", "input": {"tag": "undo-b", "sleep_ms": 3000}, "timeout_ms": 20000}},
          {"id": "c", "type": "call", "service": "wfprobe.do", "input": {"tag": "c", "fail": true}}
        ]}
        """)
        XCTAssertEqual(created, 201, "\(answer)")
        let (_, started) = try post(plexus!, "/api/v1/workflows/undo/start", "{}")
        let id = try XCTUnwrap(started["id"] as? String)
        try waitForLog("start undo-b \(id):b:compensate:1")
        kill(plexus!.process.processIdentifier, SIGKILL)
        plexus!.process.waitUntilExit()
        plexus = try start()
        defer { _ = plexus?.stop() }
        let done = try instance(plexus!, id) { $0["status"] as? String == "failed" }
        let compensated = kinds(done, "compensated").compactMap { $0["step"] as? String }
        XCTAssertEqual(compensated, ["b", "a"], "each completed step compensated once, most recent first")
        XCTAssertEqual(kinds(done, "compensation.scheduled", step: "b").count, 1)
        XCTAssertEqual(logLines.filter { $0.hasPrefix("start undo-a ") }.count, 1)
        XCTAssertEqual(Set(logLines.filter { $0.hasPrefix("start undo-b ") }), ["start undo-b \(id):b:compensate:1"], "re-run with the same key")
        XCTAssertTrue((done["error"] as? String ?? "").contains("probe step 'c' was asked to fail"), "\(done["error"] ?? "")")
    }

    /// `wait_event` is durable: the server is SIGKILLed while an instance waits; the matching event is published
    /// (durably) while the workflows plugin is not running (a run of the server without it); when the plugin is
    /// back, its durable consumer group hands it the missed event and the instance completes.
    func testWaitEventIsSatisfiedByAnEventPublishedWhileThePluginWasDown() throws {
        var plexus: TestRuntime? = try start()
        let (created, answer) = try post(plexus!, "/api/v1/workflows/definitions", """
        {"name": "payment", "input": ["order"], "steps": [
          {"id": "paid", "type": "wait_event", "topic": "payments.received", "correlate": {"event": "$.order", "equals": "$.input.order"},
           "timeout_ms": 600000, "output": "payment"},
          {"id": "after", "type": "call", "service": "wfprobe.do", "input": {"tag": "after"}}
        ], "output": "$.payment.amount"}
        """)
        XCTAssertEqual(created, 201, "\(answer)")
        let (_, started) = try post(plexus!, "/api/v1/workflows/payment/start", #"{"input": {"order": "o-9"}}"#)
        let id = try XCTUnwrap(started["id"] as? String)
        _ = try instance(plexus!, id) { $0["current"] as? [String] == ["paid"] }
        usleep(1_000_000)   // the group is created in the event log asynchronously after the wait starts
        kill(plexus!.process.processIdentifier, SIGKILL)
        plexus!.process.waitUntilExit()

        // The server without the workflows plugin: nobody waits live; the events go only to the durable log.
        let without = try Repository.startPlexus(swiftPlugins: ["libPlexusFixtureWorkflowProbe.so"], cFixtures: [],
                                                 pluginConfigs: ["wfprobe": "call_log = \"\(callLog)\"\n"], workDirectory: work)
        for body in [#"{"topic":"payments.received","payload":{"order":"o-8","amount":1},"durable":true}"#,
                     #"{"topic":"payments.received","payload":{"order":"o-9","amount":21},"durable":true}"#] {
            let response = try without.request("POST", "/api/v1/events", headers: "Content-Type: application/json\r\n", body: Array(body.utf8))
            XCTAssertEqual(response.status, 202, response.text)
        }
        XCTAssertEqual(without.stop(), 0)
        XCTAssertFalse(logLines.contains { $0.hasPrefix("start after ") }, "nothing ran while the plugin was away")

        plexus = try start()
        defer { _ = plexus?.stop() }
        let done = try instance(plexus!, id) { $0["status"] as? String == "completed" }
        XCTAssertEqual(done["output"] as? Int, 21, "the correlated event, not the other order's")
        XCTAssertEqual(kinds(done, "event.received", step: "paid").count, 1)
        XCTAssertEqual(kinds(done, "wait.started", step: "paid").count, 1, "the wait was resumed, not started again")
        XCTAssertEqual(logLines.filter { $0.hasPrefix("start after \(id):after:1") }.count, 1)
    }

    /// The durable group of a waited topic is not subscribed while nobody waits on it (after a restart): an event it
    /// hands over later that was published before the wait started does not satisfy that wait.
    func testADurableEventOlderThanTheWaitDoesNotSatisfyIt() throws {
        var plexus: TestRuntime? = try start()
        let (created, answer) = try post(plexus!, "/api/v1/workflows/definitions", """
        {"name": "payment", "input": ["order"], "steps": [
          {"id": "paid", "type": "wait_event", "topic": "payments.received", "correlate": {"event": "$.order", "equals": "$.input.order"},
           "timeout_ms": 600000, "output": "payment"}], "output": "$.payment.amount"}
        """)
        XCTAssertEqual(created, 201, "\(answer)")
        func publish(_ order: String, _ amount: Int) throws {
            let body = #"{"topic":"payments.received","payload":{"order":"\#(order)","amount":\#(amount)},"durable":true}"#
            let response = try plexus!.request("POST", "/api/v1/events", headers: "Content-Type: application/json\r\n", body: Array(body.utf8))
            XCTAssertEqual(response.status, 202, response.text)
        }
        let (_, first) = try post(plexus!, "/api/v1/workflows/payment/start", #"{"input": {"order": "o-1"}}"#)
        let firstID = try XCTUnwrap(first["id"] as? String)
        _ = try instance(plexus!, firstID) { $0["current"] as? [String] == ["paid"] }
        usleep(1_000_000)   // the group is created asynchronously
        try publish("o-1", 1)
        _ = try instance(plexus!, firstID) { $0["status"] as? String == "completed" }
        XCTAssertEqual(plexus!.stop(), 0)

        plexus = try start()   // nobody waits: the group is not subscribed
        defer { _ = plexus?.stop() }
        try publish("o-2", 2)   // before the wait below starts
        let (_, second) = try post(plexus!, "/api/v1/workflows/payment/start", #"{"input": {"order": "o-2"}}"#)
        let secondID = try XCTUnwrap(second["id"] as? String)
        _ = try instance(plexus!, secondID) { $0["current"] as? [String] == ["paid"] }
        usleep(1_000_000)   // the group now hands over the older o-2 event: it must not count
        let waiting = try instance(plexus!, secondID) { _ in true }
        XCTAssertEqual(waiting["status"] as? String, "running", "an event published before the wait started satisfied it: \(waiting)")
        try publish("o-2", 22)
        let done = try instance(plexus!, secondID) { $0["status"] as? String == "completed" }
        XCTAssertEqual(done["output"] as? Int, 22)
    }

    /// Routing state survives SIGKILL: an open batch carries on with the items routed before the kill, and a
    /// de-duplication key seen before the kill still drops its repeat after the restart.
    func testRoutingBatchesAndDeduplicationKeysSurviveSIGKILL() throws {
        let rules = """
        [{"name": "tally", "match": "readings", "topic": "routed.tally", "durable": true, "aggregate": {"count": 3, "window_ms": 600000}},
         {"name": "once", "match": "payments.made", "topic": "routed.payments", "durable": true, "dedupe": {"key": "$.id", "window_ms": 600000}}]
        """
        func publish(_ plexus: TestRuntime, _ topic: String, _ payload: String) throws {
            let response = try plexus.request("POST", "/api/v1/events", headers: "Content-Type: application/json\r\n",
                                              body: Array(#"{"topic":"\#(topic)","payload":\#(payload)}"#.utf8))
            XCTAssertEqual(response.status, 202, response.text)
        }
        func routed(_ plexus: TestRuntime, _ topic: String, count: Int) throws -> [[String: Any]] {
            let deadline = Date().addingTimeInterval(20)
            var list: [[String: Any]] = []
            while Date() < deadline {
                let response = try plexus.get("/api/v1/events?topic=\(topic)")
                list = (try? JSONSerialization.jsonObject(with: Data(response.body)) as? [[String: Any]]) ?? []
                if list.count >= count { return list }
                usleep(100_000)
            }
            throw TestFailure("\(topic): \(list.count) events, not \(count)\n\(plexus.log.suffix(2000))")
        }
        var plexus: TestRuntime? = try start(rules: rules)
        try publish(plexus!, "readings", #"{"n": 1}"#)
        try publish(plexus!, "readings", #"{"n": 2}"#)
        try publish(plexus!, "payments.made", #"{"id": "p1"}"#)
        XCTAssertEqual(try routed(plexus!, "routed.payments", count: 1).count, 1)
        usleep(1_000_000)   // the state is written behind the routing, in the next group commit
        kill(plexus!.process.processIdentifier, SIGKILL)
        plexus!.process.waitUntilExit()

        plexus = try start(rules: rules)
        defer { _ = plexus?.stop() }
        try publish(plexus!, "payments.made", #"{"id": "p1"}"#)
        try publish(plexus!, "payments.made", #"{"id": "p2"}"#)
        try publish(plexus!, "readings", #"{"n": 3}"#)
        let payments = try routed(plexus!, "routed.payments", count: 2)
        let tally = try routed(plexus!, "routed.tally", count: 1)
        XCTAssertEqual(payments.compactMap { ($0["payload"] as? [String: Any])?["id"] as? String }, ["p1", "p2"], "p1's repeat was dropped after the restart")
        let batch = try XCTUnwrap(tally.first?["payload"] as? [String: Any])
        XCTAssertEqual((batch["items"] as? [[String: Any]])?.compactMap { $0["n"] as? Int }, [1, 2, 3], "the batch opened before the kill carried on")
        XCTAssertEqual(tally.count, 1)
    }

    /// A worker crash (another plugin segfaults the supervised worker) mid-step: the new worker resumes the instance.
    func testAWorkerCrashMidStepResumesInTheNextWorker() throws {
        let plexus = try start(cFixtures: ["crash-segv"])
        defer { _ = plexus.stop() }
        let (created, answer) = try post(plexus, "/api/v1/workflows/definitions", """
        {"name": "survivor", "steps": [
          {"id": "a", "type": "call", "service": "wfprobe.do", "input": {"tag": "a"}},
          {"id": "b", "type": "call", "service": "wfprobe.do", "input": {"tag": "b", "sleep_ms": 3000}, "timeout_ms": 20000},
          {"id": "c", "type": "call", "service": "wfprobe.do", "input": {"tag": "c"}}
        ]}
        """)
        XCTAssertEqual(created, 201, "\(answer)")
        let (_, started) = try post(plexus, "/api/v1/workflows/survivor/start", "{}")
        let id = try XCTUnwrap(started["id"] as? String)
        try waitForLog("start b \(id):b:1")
        _ = try? plexus.get("/api/v1/c/segv")
        XCTAssertTrue(plexus.logEventuallyContains("crashed in plugin 'crash-segv'"), plexus.log)
        let done = try instance(plexus, id) { $0["status"] as? String == "completed" }
        XCTAssertEqual(kinds(done, "step.scheduled", step: "b").count, 1)
        XCTAssertEqual(kinds(done, "step.completed").count, 3)
        XCTAssertEqual(logLines.filter { $0 == "start b \(id):b:1" }.count, 2, "b ran again in the new worker with the same key\n\(logLines)")
    }

    func testTenantOnboardingWithoutTheWhiteLabelPluginFailsNamingIt() throws {
        let plexus = try start()
        defer { _ = plexus.stop() }
        let (status, started) = try post(plexus, "/api/v1/workflows/tenant-onboarding/start",
                                         #"{"input": {"tenant": "globex", "display_name": "Globex", "contact": "ops@globex.example", "domain": "globex.example", "plan": "pro"}}"#)
        XCTAssertEqual(status, 201, "\(started)")
        let done = try instance(plexus, try XCTUnwrap(started["id"] as? String)) { $0["status"] as? String == "failed" }
        XCTAssertEqual(done["error"] as? String, "step 'create-tenant': service 'whitelabel.tenants.create' is not offered: plugin 'whitelabel' is not loaded")
    }

    /// The shipped onboarding definition against the real white-label plugin: a tenant made whole,
    /// then a second onboarding whose domain is taken undone in reverse, leaving nothing behind.
    func testTenantOnboardingWithTheWhiteLabelPlugin() throws {
        let plexus = try start(["libPlexusWhiteLabel.so"])
        defer { _ = plexus.stop() }
        let defaults = try plexus.request("PUT", "/api/v1/plans/pro/defaults", headers: "Content-Type: application/json\r\n",
                                          body: Array(#"{"flags": [{"name": "beta", "enabled": true, "strategies": []}]}"#.utf8))
        XCTAssertTrue((200..<300).contains(defaults.status), defaults.text)
        let (status, started) = try post(plexus, "/api/v1/workflows/tenant-onboarding/start",
                                         #"{"input": {"tenant": "globex", "display_name": "Globex", "contact": "ops@globex.example", "domain": "globex.example", "plan": "pro"}}"#)
        XCTAssertEqual(status, 201, "\(started)")
        let done = try instance(plexus, try XCTUnwrap(started["id"] as? String)) { ["completed", "failed"].contains($0["status"] as? String ?? "") }
        XCTAssertEqual(done["status"] as? String, "completed", "\(done)")
        let tenant = try plexus.get("/api/v1/tenants/globex")
        XCTAssertEqual(tenant.status, 200, tenant.text)
        XCTAssertTrue(tenant.text.contains("globex.example"), tenant.text)

        let (_, second) = try post(plexus, "/api/v1/workflows/tenant-onboarding/start",
                                   #"{"input": {"tenant": "initech", "display_name": "Initech", "contact": "ops@initech.example", "domain": "globex.example", "plan": "pro"}}"#)
        let failed = try instance(plexus, try XCTUnwrap(second["id"] as? String)) { $0["status"] as? String == "failed" }
        XCTAssertTrue("\(failed)".contains("reserve-domain"), "\(failed)")
        XCTAssertEqual(try plexus.get("/api/v1/tenants/initech").status, 404, "the tenant made by the first step is deleted again")
    }

    func testMetricsShowInstancesAndRules() throws {
        let plexus = try start(rules: #"[{"name": "big", "match": "orders.created", "when": {"path": "$.total", "op": "gte", "value": 100}, "pick": ["id"], "topic": "routed.big"}, {"name": "once", "match": "orders.created", "dedupe": {"key": "$.id", "window_ms": 60000}, "topic": "routed.once"}]"#)
        defer { _ = plexus.stop() }
        _ = try post(plexus, "/api/v1/workflows/definitions", #"{"name": "quick", "steps": [{"id": "a", "type": "call", "service": "wfprobe.noop"}]}"#)
        let (_, started) = try post(plexus, "/api/v1/workflows/quick/start", "{}")
        _ = try instance(plexus, try XCTUnwrap(started["id"] as? String)) { $0["status"] as? String == "completed" }
        let metrics = try plexus.get("/metrics").text
        XCTAssertTrue(metrics.contains(#"workflows_instances_completed_total{workflow="quick"} 1"#), String(metrics.suffix(3000)))
        XCTAssertTrue(metrics.contains("workflows_step_seconds_bucket"), "step latency histogram")
        for body in [#"{"id": "o1", "total": 150}"#, #"{"id": "o1", "total": 150}"#, #"{"id": "o2", "total": 5}"#] {
            let published = try plexus.request("POST", "/api/v1/events", headers: "Content-Type: application/json\r\n",
                                               body: Array(#"{"topic": "orders.created", "payload": \#(body)}"#.utf8))
            XCTAssertEqual(published.status, 202, published.text)
        }
        let expected = [#"workflows_rule_matched_total{rule="big"} 2"#, #"workflows_rule_forwarded_total{rule="big"} 2"#,
                        #"workflows_rule_matched_total{rule="once"} 3"#, #"workflows_rule_forwarded_total{rule="once"} 2"#,
                        #"workflows_rule_dropped_total{rule="once"} 1"#]
        var text = ""
        for _ in 0..<50 {
            text = try plexus.get("/metrics").text
            if expected.allSatisfy(text.contains) { break }
            usleep(100_000)
        }
        let ruleLines = text.split(separator: "\n").filter { $0.contains("workflows_rule") }.joined(separator: "\n")
        for line in expected { XCTAssertTrue(text.contains(line), "\(line) not in /metrics:\n\(ruleLines)") }
    }

    /// The shipped document-analysis flow against the real comparison and compliance plugins.
    func testDocumentAnalysisAgainstDocCompareAndCompliance() throws {
        let plexus = try start(["libPlexusDocCompare.so", "libPlexusCompliance.so"])
        defer { _ = plexus.stop() }
        plexus.credential = try plexus.createAPIKey(name: "writer", tenant: "acme")
        for text in ["1. Notice period is 30 days.\n", "1. Notice period is 60 days.\n2. Contact anna@example.com.\n"] {
            let stored = try plexus.request("POST", "/api/v1/documents/acme/nda/versions", headers: "Content-Type: text/plain\r\n", body: Array(text.utf8))
            XCTAssertEqual(stored.status, 201, stored.text)
        }
        let (status, started) = try post(plexus, "/api/v1/workflows/document-analysis/start",
                                         #"{"input": {"tenant": "acme", "document": "nda", "version": 2}}"#)
        XCTAssertEqual(status, 201, "\(started)")
        let done = try instance(plexus, try XCTUnwrap(started["id"] as? String)) { ["completed", "failed"].contains($0["status"] as? String ?? "") }
        XCTAssertEqual(done["status"] as? String, "completed", "\(done)")
        let output = done["output"] as? [String: Any] ?? [:]
        let comparison = output["comparison"] as? [String: Any] ?? [:]
        XCTAssertEqual(comparison["to"] as? Int, 2, "\(output)")
        XCTAssertEqual(comparison["from"] as? Int, 1, "\(output)")
        let entities = (output["compliance"] as? [String: Any])?["entities"] as? [[String: Any]] ?? []
        XCTAssertTrue(entities.contains { $0["type"] as? String == "EMAIL" }, "\(output)")
        // Each stored version's document.changed started one instance by itself (the trigger), and the start above a third.
        var listed: [[String: Any]] = []
        for _ in 0..<100 {
            let response = try plexus.get("/api/v1/workflows/instances?workflow=document-analysis")
            listed = (try? JSONSerialization.jsonObject(with: Data(response.body)) as? [[String: Any]]) ?? []
            if listed.count == 3 && listed.allSatisfy({ $0["status"] as? String == "completed" }) { break }
            usleep(100_000)
        }
        XCTAssertEqual(listed.count, 3, "\(listed)")
        XCTAssertEqual(listed.filter { $0["status"] as? String == "completed" }.count, 3, "\(listed)")
    }

    /// Without the compliance plugin the optional check is skipped, and the history names the missing plugin.
    func testDocumentAnalysisWithoutComplianceSkipsThatStepNamingIt() throws {
        let plexus = try start(["libPlexusDocCompare.so"])
        defer { _ = plexus.stop() }
        plexus.credential = try plexus.createAPIKey(name: "writer", tenant: "acme")
        let stored = try plexus.request("POST", "/api/v1/documents/acme/memo/versions", headers: "Content-Type: text/plain\r\n", body: Array("Hello.\n".utf8))
        XCTAssertEqual(stored.status, 201, stored.text)
        let (_, started) = try post(plexus, "/api/v1/workflows/document-analysis/start", #"{"input": {"tenant": "acme", "document": "memo", "version": 1}}"#)
        let done = try instance(plexus, try XCTUnwrap(started["id"] as? String)) { ["completed", "failed"].contains($0["status"] as? String ?? "") }
        XCTAssertEqual(done["status"] as? String, "completed", "\(done)")
        let skipped = kinds(done, "step.failed", step: "compliance-check").first
        XCTAssertEqual(skipped?["error"] as? String, "step 'compliance-check': service 'compliance.check' is not offered: plugin 'compliance' is not loaded")
        XCTAssertEqual(kinds(done, "step.scheduled", step: "compare").count, 0, "version 1 has nothing to compare with")
    }
}
