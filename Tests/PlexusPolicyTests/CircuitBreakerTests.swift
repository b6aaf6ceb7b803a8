import PlexusPolicy
import XCTest

final class CircuitBreakerTests: XCTestCase {
    private struct Transition: Equatable {
        let from: CircuitState
        let to: CircuitState
    }

    /// Window 10 s of 1 s buckets, 4 calls at least, 50 %, open 5 s.
    private func makeBreaker(
        probes: Int = 1, successesToClose: Int? = nil, transitions: Recorder<Transition>? = nil,
        reasons: Recorder<String>? = nil
    ) throws -> CircuitBreaker {
        try CircuitBreaker(
            name: "notes",
            configuration: CircuitBreakerConfiguration(
                windowSeconds: 10, bucketCount: 10, minimumRequests: 4, failureRatio: 0.5, openSeconds: 5,
                halfOpenProbes: probes, probeSuccessesToClose: successesToClose),
            onStateChange: { from, to, reason in
                transitions?.record(Transition(from: from, to: to))
                reasons?.record(reason)
            })
    }

    private func call(_ breaker: CircuitBreaker, success: Bool, at now: Double) throws {
        let permit = try breaker.acquire(now: now)
        breaker.complete(permit, success: success, now: now)
    }

    /// Opens `breaker` at `now` with four failures.
    private func trip(_ breaker: CircuitBreaker, at now: Double) throws {
        for _ in 0..<4 { try call(breaker, success: false, at: now) }
        XCTAssertEqual(breaker.state, .open)
    }

    func testMinimumRequestsIsRespected() throws {
        let reasons = Recorder<String>()
        let breaker = try makeBreaker(reasons: reasons)
        for _ in 0..<3 { try call(breaker, success: false, at: 0) }
        XCTAssertEqual(breaker.state, .closed, "3 failures out of 3 are below minimumRequests")
        try call(breaker, success: false, at: 0.5)
        XCTAssertEqual(breaker.state, .open)
        XCTAssertEqual(reasons.values.count, 1)
        XCTAssertTrue(reasons.values[0].contains("4 of 4 calls failed"), reasons.values[0])
    }

    func testOpensAtTheFailureRatio() throws {
        let breaker = try makeBreaker()
        for _ in 0..<3 { try call(breaker, success: true, at: 1) }
        for _ in 0..<2 { try call(breaker, success: false, at: 1) }
        XCTAssertEqual(breaker.state, .closed, "2 of 5 is 40 %")
        XCTAssertEqual(breaker.windowCounts(now: 1).successes, 3)
        XCTAssertEqual(breaker.windowCounts(now: 1).failures, 2)
        try call(breaker, success: false, at: 1)
        XCTAssertEqual(breaker.state, .open, "3 of 6 is 50 %")
        XCTAssertEqual(breaker.windowCounts(now: 1).failures, 0, "opening clears the window")
    }

    func testOldBucketsFallOutOfTheWindow() throws {
        let stillInside = try makeBreaker()
        for _ in 0..<3 { try call(stillInside, success: false, at: 0) }
        try call(stillInside, success: false, at: 9.9)
        XCTAssertEqual(stillInside.state, .open, "the bucket of t=0 is still in the window at 9.9")

        let aged = try makeBreaker()
        for _ in 0..<3 { try call(aged, success: false, at: 0) }
        XCTAssertEqual(aged.windowCounts(now: 10).failures, 0)
        try call(aged, success: false, at: 10)
        XCTAssertEqual(aged.state, .closed, "the failures of t=0 left the window at 10")
        XCTAssertEqual(aged.windowCounts(now: 10).failures, 1)
    }

    func testOpenRefusesThenHalfOpensAndAProbeSuccessCloses() throws {
        let transitions = Recorder<Transition>()
        let breaker = try makeBreaker(transitions: transitions)
        try trip(breaker, at: 10)
        XCTAssertThrowsError(try breaker.acquire(now: 12)) { error in
            let refusal = error as? CircuitOpenError
            XCTAssertEqual(refusal?.state, .open)
            XCTAssertEqual(refusal?.retryAfterSeconds ?? 0, 3, accuracy: 1e-9)
            XCTAssertEqual(refusal?.retryAfterHeaderSeconds, 3)
            XCTAssertEqual(refusal?.name, "notes")
        }
        XCTAssertThrowsError(try breaker.acquire(now: 14.99))
        XCTAssertEqual(breaker.rejections, 2)

        let probe = try breaker.acquire(now: 15)
        XCTAssertTrue(probe.isProbe)
        XCTAssertEqual(breaker.state, .halfOpen)
        XCTAssertThrowsError(try breaker.acquire(now: 15.1), "only one probe at a time") { error in
            XCTAssertEqual((error as? CircuitOpenError)?.state, .halfOpen)
        }
        breaker.complete(probe, success: true, now: 15.2)
        XCTAssertEqual(breaker.state, .closed)
        XCTAssertFalse(try breaker.acquire(now: 15.3).isProbe)
        XCTAssertEqual(
            transitions.values,
            [Transition(from: .closed, to: .open), Transition(from: .open, to: .halfOpen),
             Transition(from: .halfOpen, to: .closed)])
    }

    func testAFailedProbeReopensForAFullOpenPeriod() throws {
        let transitions = Recorder<Transition>()
        let breaker = try makeBreaker(transitions: transitions)
        try trip(breaker, at: 0)
        let probe = try breaker.acquire(now: 5)
        breaker.complete(probe, success: false, now: 6)
        XCTAssertEqual(breaker.state, .open)
        XCTAssertThrowsError(try breaker.acquire(now: 10.5)) { error in
            XCTAssertEqual((error as? CircuitOpenError)?.retryAfterSeconds ?? 0, 0.5, accuracy: 1e-9)
        }
        XCTAssertTrue(try breaker.acquire(now: 11).isProbe)
        XCTAssertEqual(
            transitions.values,
            [Transition(from: .closed, to: .open), Transition(from: .open, to: .halfOpen),
             Transition(from: .halfOpen, to: .open), Transition(from: .open, to: .halfOpen)])
    }

    func testHalfOpenProbeLimitAndSuccessesToClose() throws {
        let breaker = try makeBreaker(probes: 2, successesToClose: 3)
        try trip(breaker, at: 0)
        let first = try breaker.acquire(now: 5)
        let second = try breaker.acquire(now: 5)
        XCTAssertEqual(breaker.probesInFlightCount, 2)
        XCTAssertThrowsError(try breaker.acquire(now: 5), "a third concurrent probe is refused")
        breaker.complete(first, success: true, now: 5.1)
        XCTAssertEqual(breaker.state, .halfOpen, "1 of 3 successes")
        let third = try breaker.acquire(now: 5.2)
        breaker.complete(second, success: true, now: 5.3)
        breaker.complete(second, success: true, now: 5.3)  // a second completion of the same probe is ignored
        XCTAssertEqual(breaker.state, .halfOpen, "2 of 3 successes")
        breaker.complete(third, success: true, now: 5.4)
        XCTAssertEqual(breaker.state, .closed)
    }

    func testCancelFreesAProbeSlotWithoutCounting() throws {
        let breaker = try makeBreaker()
        try trip(breaker, at: 0)
        let probe = try breaker.acquire(now: 5)
        breaker.cancel(probe)
        XCTAssertEqual(breaker.state, .halfOpen)
        XCTAssertEqual(breaker.probesInFlightCount, 0)
        let again = try breaker.acquire(now: 5)
        breaker.complete(again, success: true, now: 5)
        XCTAssertEqual(breaker.state, .closed)
    }

    func testAPermitFromAnEarlierStateDoesNotCorruptCounts() throws {
        let breaker = try makeBreaker()
        let slowCall = try breaker.acquire(now: 0)  // issued while closed, completes much later
        try trip(breaker, at: 1)
        let probe = try breaker.acquire(now: 6)
        breaker.complete(slowCall, success: true, now: 6.5)
        XCTAssertEqual(breaker.state, .halfOpen, "a closed-state success is not a probe success")
        XCTAssertEqual(breaker.probesInFlightCount, 1)
        XCTAssertEqual(breaker.staleCompletions, 1)
        breaker.complete(probe, success: true, now: 7)
        XCTAssertEqual(breaker.state, .closed)

        breaker.complete(probe, success: false, now: 7.5)  // a probe completed again after closing
        XCTAssertEqual(breaker.state, .closed)
        XCTAssertEqual(breaker.windowCounts(now: 7.5).failures, 0)
        XCTAssertEqual(breaker.staleCompletions, 2)
    }

    func testConfigurationIsValidated() {
        for bad in [
            CircuitBreakerConfiguration(windowSeconds: 0), CircuitBreakerConfiguration(bucketCount: 0),
            CircuitBreakerConfiguration(minimumRequests: 0), CircuitBreakerConfiguration(failureRatio: 0),
            CircuitBreakerConfiguration(failureRatio: 1.5), CircuitBreakerConfiguration(openSeconds: -1),
            CircuitBreakerConfiguration(halfOpenProbes: 0), CircuitBreakerConfiguration(probeSuccessesToClose: 0),
        ] {
            XCTAssertThrowsError(try CircuitBreaker(name: "x", configuration: bad)) {
                XCTAssertEqual(($0 as? PolicyError)?.kind, .invalidConfiguration)
            }
        }
        XCTAssertEqual(CircuitState.halfOpen.rawValue, "half_open")
    }
}
