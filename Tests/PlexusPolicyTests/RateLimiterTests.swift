import PlexusPolicy
import XCTest

final class RateLimiterTests: XCTestCase {
    /// 5 requests per 10 s, burst 5: refills one token every 2 s.
    private func makeLimiter(maxClients: Int = 100_000) throws -> RateLimiter {
        try RateLimiter(
            policies: [
                RateLimitPolicy(name: "api", requests: 5, perSeconds: 10),
                RateLimitPolicy(name: "login", requests: 1, perSeconds: 60, burst: 3),
            ],
            maxClientsPerPolicy: maxClients)
    }

    func testCapacityNAllowsExactlyNAtTheSameInstant() throws {
        for capacity in [1, 2, 7, 100] {
            let limiter = try RateLimiter(policies: [RateLimitPolicy(name: "p", requests: capacity, perSeconds: 1)])
            var allowed = 0
            for _ in 0..<(capacity * 3) where try limiter.check(policy: "p", client: "c", now: 500).allowed {
                allowed += 1
            }
            XCTAssertEqual(allowed, capacity, "capacity \(capacity)")
        }
    }

    func testRefillOverSimulatedTime() throws {
        let limiter = try makeLimiter()
        for _ in 0..<5 { XCTAssertTrue(try limiter.check(policy: "api", client: "k", now: 100).allowed) }
        XCTAssertFalse(try limiter.check(policy: "api", client: "k", now: 100).allowed)
        XCTAssertFalse(try limiter.check(policy: "api", client: "k", now: 101.9).allowed, "half a token is not a token")
        XCTAssertTrue(try limiter.check(policy: "api", client: "k", now: 102).allowed, "one token after 2 s")
        XCTAssertFalse(try limiter.check(policy: "api", client: "k", now: 102).allowed)
        var allowed = 0
        for _ in 0..<10 where try limiter.check(policy: "api", client: "k", now: 1_000).allowed { allowed += 1 }
        XCTAssertEqual(allowed, 5, "refill stops at the burst however long the wait")
    }

    func testFloatingPointRoundingNeverRefusesADueToken() throws {
        // 10 per second: a token every 0.1 s, and 0.3 - 0.2 is 0.09999999999999998.
        let limiter = try RateLimiter(policies: [RateLimitPolicy(name: "p", requests: 10, perSeconds: 1, burst: 1)])
        XCTAssertTrue(try limiter.check(policy: "p", client: "c", now: 0.2).allowed)
        XCTAssertTrue(try limiter.check(policy: "p", client: "c", now: 0.3).allowed)
        XCTAssertFalse(try limiter.check(policy: "p", client: "c", now: 0.3).allowed)
    }

    func testClientsAndPoliciesAreIndependent() throws {
        let limiter = try makeLimiter()
        for _ in 0..<5 { _ = try limiter.check(policy: "api", client: "alice", now: 0) }
        XCTAssertFalse(try limiter.check(policy: "api", client: "alice", now: 0).allowed)
        XCTAssertTrue(try limiter.check(policy: "api", client: "bob", now: 0).allowed)
        XCTAssertTrue(try limiter.check(policy: "login", client: "alice", now: 0).allowed)
        XCTAssertEqual(limiter.trackedClients(policy: "api"), 2)
        XCTAssertEqual(limiter.trackedClients(policy: "login"), 1)
        XCTAssertEqual(limiter.trackedClients, 3)
    }

    func testDecisionValuesAndRetryAfter() throws {
        let limiter = try makeLimiter()
        let first = try limiter.check(policy: "api", client: "k", now: 0)
        XCTAssertEqual(first.allowed, true)
        XCTAssertEqual(first.limit, 5)
        XCTAssertEqual(first.remaining, 4)
        XCTAssertEqual(first.resetSeconds, 2, "one token short of full: 2 s")
        XCTAssertEqual(first.retryAfterSeconds, 0)
        for _ in 0..<3 { _ = try limiter.check(policy: "api", client: "k", now: 0) }
        let last = try limiter.check(policy: "api", client: "k", now: 0)
        XCTAssertEqual(last.remaining, 0)
        XCTAssertTrue(last.allowed)
        XCTAssertEqual(last.resetSeconds, 2, "none left: t is the time to the next token")

        let refused = try limiter.check(policy: "api", client: "k", now: 0.5)
        XCTAssertFalse(refused.allowed)
        XCTAssertEqual(refused.remaining, 0)
        XCTAssertEqual(refused.retryAfterSeconds, 2, "1.5 s to the next token, rounded up")
        let almost = try limiter.check(policy: "api", client: "k", now: 1.99)
        XCTAssertEqual(almost.retryAfterSeconds, 1, "never below 1 when refused")

        let slow = try limiter.check(policy: "login", client: "k", now: 0)
        XCTAssertEqual(slow.resetSeconds, 60)
        for _ in 0..<2 { _ = try limiter.check(policy: "login", client: "k", now: 0) }
        let locked = try limiter.check(policy: "login", client: "k", now: 0)
        XCTAssertEqual(locked.retryAfterSeconds, 60)
        XCTAssertEqual(locked.resetSeconds, 60)
    }

    func testHeaderFieldsUseTheCurrentDraftForm() throws {
        let limiter = try makeLimiter()
        let allowed = try limiter.check(policy: "api", client: "k", now: 0)
        let fields = allowed.headerFields()
        XCTAssertEqual(fields.map(\.name), ["RateLimit-Policy", "RateLimit"])
        XCTAssertEqual(fields.map(\.value), ["\"api\";q=5;w=10", "\"api\";r=4;t=2"])
        XCTAssertEqual(allowed.headerFields(includePolicy: false).map(\.name), ["RateLimit"])

        for _ in 0..<4 { _ = try limiter.check(policy: "api", client: "k", now: 0) }
        let refused = try limiter.check(policy: "api", client: "k", now: 0)
        let refusedFields = Dictionary(uniqueKeysWithValues: refused.headerFields().map { ($0.name, $0.value) })
        XCTAssertEqual(refusedFields["Retry-After"], "2")
        XCTAssertEqual(refusedFields["RateLimit"], "\"api\";r=0;t=2")

        let odd = try RateLimitPolicy(name: #"a"b\c"#, requests: 1, perSeconds: 1)
        XCTAssertEqual(odd.policyItem, #""a\"b\\c";q=1;w=1"#, "names are escaped as structured-field strings")
    }

    func testSweepForgetsOnlyFullBuckets() throws {
        let limiter = try makeLimiter()
        _ = try limiter.check(policy: "api", client: "light", now: 0)  // 4 left, full again at 2 s
        for _ in 0..<5 { _ = try limiter.check(policy: "api", client: "heavy", now: 0) }  // full again at 10 s
        XCTAssertEqual(limiter.sweep(now: 1), 0)
        XCTAssertEqual(limiter.sweep(now: 2), 1)
        XCTAssertEqual(limiter.trackedClients(policy: "api"), 1)
        XCTAssertEqual(limiter.sweep(now: 9.9), 0)
        XCTAssertEqual(limiter.sweep(now: 10), 1)
        XCTAssertEqual(limiter.trackedClients, 0)
        XCTAssertEqual(try limiter.check(policy: "api", client: "heavy", now: 10).remaining, 4, "comes back full")
    }

    func testCapEvictsTheLeastRecentlySeenClient() throws {
        let limiter = try makeLimiter(maxClients: 3)
        for client in ["a", "b", "c"] {
            for _ in 0..<5 { _ = try limiter.check(policy: "api", client: client, now: 0) }
        }
        _ = try limiter.check(policy: "api", client: "a", now: 0.1)  // a is now the most recent
        _ = try limiter.check(policy: "api", client: "d", now: 0.2)  // evicts b
        XCTAssertEqual(limiter.trackedClients(policy: "api"), 3)
        XCTAssertEqual(limiter.capEvictions, 1)
        XCTAssertFalse(try limiter.check(policy: "api", client: "a", now: 0.3).allowed, "a kept its drained bucket")
        XCTAssertFalse(try limiter.check(policy: "api", client: "c", now: 0.3).allowed, "c kept its drained bucket")
        XCTAssertTrue(try limiter.check(policy: "api", client: "b", now: 0.3).allowed, "b was forgotten")
        XCTAssertEqual(limiter.capEvictions, 2, "b's return evicted d, the least recent")
    }

    func testAFloodOfClientKeysNeverGrowsPastTheCap() throws {
        let limiter = try makeLimiter(maxClients: 1_000)
        for index in 0..<20_000 {
            _ = try limiter.check(policy: "api", client: "ip:10.0.\(index / 256).\(index % 256)", now: Double(index) * 0.001)
        }
        XCTAssertEqual(limiter.trackedClients(policy: "api"), 1_000)
        XCTAssertEqual(limiter.capEvictions, 19_000)
        XCTAssertEqual(limiter.sweep(now: 1_000), 1_000)
        XCTAssertEqual(limiter.trackedClients, 0)
    }

    func testConfigurationErrorsAreTyped() throws {
        XCTAssertThrowsError(try RateLimitPolicy(name: "p", requests: 0, perSeconds: 1)) {
            XCTAssertEqual(($0 as? PolicyError)?.kind, .invalidConfiguration)
        }
        XCTAssertThrowsError(try RateLimitPolicy(name: "p", requests: 1, perSeconds: 1, burst: 0))
        XCTAssertThrowsError(try RateLimitPolicy(name: "", requests: 1, perSeconds: 1))
        XCTAssertThrowsError(try RateLimitPolicy(name: "é", requests: 1, perSeconds: 1))
        let policy = try RateLimitPolicy(name: "p", requests: 1, perSeconds: 1)
        XCTAssertThrowsError(try RateLimiter(policies: [policy, policy])) {
            XCTAssertEqual(($0 as? PolicyError)?.kind, .invalidConfiguration)
        }
        XCTAssertThrowsError(try RateLimiter(policies: [policy], maxClientsPerPolicy: 0))
        let limiter = try RateLimiter(policies: [policy])
        XCTAssertThrowsError(try limiter.check(policy: "nope", client: "c", now: 0)) {
            XCTAssertEqual(($0 as? PolicyError)?.kind, .unknownPolicy)
        }
        XCTAssertNil(limiter.policy(named: "nope"))
        XCTAssertEqual(limiter.policy(named: "p"), policy)
    }

    func testTokenBucketOnItsOwn() {
        var bucket = TokenBucket(capacity: 2, refillPerSecond: 4, now: 10)
        XCTAssertTrue(bucket.isFull(now: 10))
        XCTAssertTrue(bucket.take(2, now: 10))
        XCTAssertFalse(bucket.take(now: 10))
        XCTAssertEqual(bucket.secondsUntilAvailable(1), 0.25, accuracy: 1e-12)
        XCTAssertEqual(bucket.secondsUntilFull, 0.5, accuracy: 1e-12)
        XCTAssertFalse(bucket.isFull(now: 10.4))
        XCTAssertTrue(bucket.isFull(now: 10.5))
        XCTAssertEqual(bucket.secondsUntilAvailable(3), .infinity, "more than the capacity never becomes available")
        XCTAssertFalse(bucket.take(now: 9), "a clock that steps back adds nothing")
        XCTAssertTrue(bucket.take(now: 10.25))
        XCTAssertEqual(bucket.wholeTokens, 0)
    }
}
