import WorkflowEngine
import XCTest

/// Routing rules: match, condition, transform, rate limit, de-duplication, aggregation, loops.
final class RouterTests: XCTestCase {
    func rule(_ text: String, publishable: [String] = []) throws -> RoutingRule {
        try RoutingRule.parse(JSON.parse(text)!, publishable: publishable)
    }

    func testMatchConditionAndTransform() throws {
        let router = Router(rules: [try rule("""
        {"name": "big-orders", "match": "orders.+", "when": {"path": "$.total", "op": "gte", "value": 100},
         "pick": ["id", "total", "region"], "rename": {"total": "amount"}, "set": {"source": "router", "copy": "$.id"},
         "topic": "routed.orders.{{$.region}}"}
        """)])
        XCTAssertEqual(router.route(topic: "orders.created", payload: JSON.parse(#"{"id": "o1", "total": 50, "region": "eu"}"#)!, now: 0), [])
        XCTAssertEqual(router.route(topic: "invoices.created", payload: JSON.parse(#"{"id": "o1", "total": 500}"#)!, now: 0), [])
        let out = router.route(topic: "orders.created", payload: JSON.parse(#"{"id": "o2", "total": 150, "region": "eu", "secret": 1}"#)!, now: 0)
        XCTAssertEqual(out.map(\.topic), ["routed.orders.eu"])
        XCTAssertEqual(out.first?.payload, JSON.parse(#"{"id": "o2", "amount": 150, "region": "eu", "source": "router", "copy": "o2"}"#))
        XCTAssertEqual(router.counts("big-orders"), { var c = Router.Counts(); c.matched = 1; c.forwarded = 1; return c }())
    }

    func testRateLimitPerKeyAndDeduplication() throws {
        let router = Router(rules: [
            try rule(#"{"name": "limited", "match": "clicks", "topic": "routed.clicks", "rate_limit": {"key": "$.user", "per_second": 2, "burst": 2}}"#),
            try rule(#"{"name": "once", "match": "payments", "topic": "routed.payments", "dedupe": {"key": "$.id", "window_ms": 1000}}"#),
        ])
        let ada = JSON.parse(#"{"user": "ada"}"#)!, bob = JSON.parse(#"{"user": "bob"}"#)!
        XCTAssertEqual((0..<5).flatMap { _ in router.route(topic: "clicks", payload: ada, now: 0) }.count, 2, "burst of 2")
        XCTAssertEqual(router.route(topic: "clicks", payload: bob, now: 0).count, 1, "another key has its own bucket")
        XCTAssertEqual(router.route(topic: "clicks", payload: ada, now: 500).count, 1, "one token back after 500 ms at 2/s")
        XCTAssertEqual(router.counts("limited")?.dropped, 3)
        let pay = JSON.parse(#"{"id": "p1"}"#)!
        XCTAssertEqual(router.route(topic: "payments", payload: pay, now: 0).count, 1)
        XCTAssertEqual(router.route(topic: "payments", payload: pay, now: 999).count, 0)
        XCTAssertEqual(router.route(topic: "payments", payload: pay, now: 1000).count, 1, "the window passed")
    }

    func testAggregateByCountAndByWindowPerKey() throws {
        let router = Router(rules: [try rule(#"{"name": "batch", "match": "readings.#", "topic": "routed.batch", "aggregate": {"key": "$.sensor", "count": 3, "window_ms": 100}}"#)])
        for n in 0..<3 { XCTAssertEqual(router.route(topic: "readings.t", payload: .object(["sensor": .string("s1"), "n": .number(Double(n))]), now: 0).count, n == 2 ? 1 : 0) }
        XCTAssertEqual(router.route(topic: "readings.t", payload: .object(["sensor": .string("s2")]), now: 10), [])
        XCTAssertEqual(router.nextDeadline, 110)
        XCTAssertEqual(router.flush(now: 50), [])
        let flushed = router.flush(now: 110)
        XCTAssertEqual(flushed.first?.payload["count"], .number(1))
        XCTAssertEqual(flushed.first?.payload["key"], .string("s2"))
        XCTAssertEqual(router.counts("batch")?.batched, 4)
        XCTAssertEqual(router.counts("batch")?.forwarded, 2)
    }

    /// A router rebuilt from the journal of another (as after a crash) drops what the first would drop,
    /// has the same empty buckets, and closes the same open batch with every item, under the same batch id.
    func testStateRestoredFromTheJournalBehavesAsBeforeTheCrash() throws {
        let rules = [
            try rule(#"{"name": "limited", "match": "clicks", "topic": "routed.clicks", "rate_limit": {"key": "$.user", "per_second": 1, "burst": 2}}"#),
            try rule(#"{"name": "once", "match": "payments", "topic": "routed.payments", "dedupe": {"key": "$.id", "window_ms": 1000}}"#),
            try rule(#"{"name": "batch", "match": "readings", "topic": "routed.batch", "aggregate": {"key": "$.sensor", "count": 3, "window_ms": 5000}}"#),
        ]
        let before = Router(rules: rules)
        before.journaling = true
        let ada = JSON.parse(#"{"user": "ada"}"#)!, pay = JSON.parse(#"{"id": "p1"}"#)!
        XCTAssertEqual((0..<3).flatMap { _ in before.route(topic: "clicks", payload: ada, now: 0) }.count, 2)
        XCTAssertEqual(before.route(topic: "payments", payload: pay, now: 0).count, 1)
        let closed = (0..<3).flatMap { n in before.route(topic: "readings", payload: .object(["sensor": .string("s1"), "n": .number(Double(n))]), now: 0) }
        XCTAssertEqual(closed.count, 1)
        for n in 3..<5 { _ = before.route(topic: "readings", payload: .object(["sensor": .string("s1"), "n": .number(Double(n))]), now: 0) }
        let journal = before.takeJournal()
        XCTAssertTrue(journal.contains(.batchClosed(rule: "batch", batch: try XCTUnwrap(closed.first?.batch))))
        XCTAssertEqual(before.takeJournal(), [], "taken once")

        let after = Router(rules: rules)
        after.restore(journal, now: 100)
        XCTAssertEqual(after.route(topic: "clicks", payload: ada, now: 100).count, 0, "the bucket stayed empty across the restart")
        XCTAssertEqual(after.route(topic: "payments", payload: pay, now: 100).count, 0, "p1 is still within its window")
        let out = after.route(topic: "readings", payload: .object(["sensor": .string("s1"), "n": .number(5)]), now: 100)
        XCTAssertEqual(out.first?.payload["items"]?.array?.compactMap { $0["n"] }, [.number(3), .number(4), .number(5)], "the open batch carried on")
        XCTAssertNotEqual(out.first?.batch, closed.first?.batch, "a new batch id")
        let expired = Router(rules: rules)
        expired.restore(journal, now: 1_000)
        XCTAssertEqual(expired.route(topic: "payments", payload: pay, now: 1_000).count, 1, "an expired key is not restored")
        XCTAssertEqual(expired.flush(now: 5_000).first?.payload["count"], .number(2), "the open batch is flushed when its window passed")
    }

    func testARuleThatWouldLoopIsRefused() {
        XCTAssertThrowsError(try rule(#"{"name": "loop", "match": "routed.#", "topic": "routed.again"}"#)) { error in
            XCTAssertEqual((error as? DefinitionError)?.path, "$.topic")
            XCTAssertTrue("\(error)".contains("would loop"), "\(error)")
        }
        XCTAssertThrowsError(try rule(#"{"name": "loop2", "match": "a.+", "topic": "a.{{$.x}}"}"#))
        XCTAssertNoThrow(try rule(#"{"name": "fine", "match": "a.+", "topic": "a.b.c"}"#))
        XCTAssertThrowsError(try rule(#"{"name": "mine", "match": "a.b", "topic": "system.x"}"#, publishable: ["routed.#"])) { error in
            XCTAssertTrue("\(error)".contains("not one this plugin may publish"), "\(error)")
        }
        XCTAssertThrowsError(try rule(#"{"name": "n", "match": "a", "topic": "routed.x", "rate_limit": {"per_second": 0}}"#)) { error in
            XCTAssertEqual((error as? DefinitionError)?.path, "$.rate_limit.per_second")
        }
    }
}
