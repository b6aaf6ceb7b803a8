import WorkflowEngine
import XCTest

/// The interpreter over histories: steps, retries, compensation, replay after a crash.
final class InterpreterTests: XCTestCase {
    let saga = """
    {"name": "saga", "input": ["order"], "steps": [
      {"id": "a", "type": "call", "service": "svc.a", "input": {"order": "$.input.order"}, "output": "ra", "compensate": {"service": "svc.undo", "input": {"what": "a"}}},
      {"id": "b", "type": "call", "service": "svc.b", "input": {"from": "$.ra.value"}, "output": "rb", "compensate": {"service": "svc.undo", "input": {"what": "b"}}},
      {"id": "c", "type": "call", "service": "svc.c", "output": "rc"}
    ], "output": {"b": "$.rb"}}
    """

    func sim(_ text: String, input: JSON = .object(["order": .string("o-1")])) throws -> Simulator {
        var simulator = Simulator(try definition(text), input: input)
        simulator.services = [
            "svc.a": { _ in .object(["value": .number(7)]) },
            "svc.b": { payload in .object(["got": payload["from"] ?? .null]) },
            "svc.c": { _ in .object([:]) },
            "svc.undo": { _ in .null },
        ]
        return simulator
    }

    func testStepsRunInOrderEachScheduledBeforeItRunsAndTheOutputIsMapped() throws {
        var simulator = try sim(saga)
        let result = simulator.run()
        XCTAssertEqual(result.status, .completed)
        XCTAssertEqual(result.output, .object(["b": .object(["got": .number(7)])]))
        XCTAssertEqual(simulator.history.map(\.kind.rawValue), ["started", "step.scheduled", "step.completed", "step.scheduled", "step.completed",
                                                               "step.scheduled", "step.completed", "completed"])
        XCTAssertEqual(simulator.calls.map(\.key), ["wf-1:a:1", "wf-1:b:1", "wf-1:c:1"], "idempotency key: instance, step, attempt")
    }

    func testTheIdempotencyKeyIsAddedToAnObjectRequest() throws {
        var simulator = try sim(saga)
        var seen: [JSON] = []
        simulator.services["svc.a"] = { payload in seen.append(payload); return .object(["value": .number(1)]) }
        simulator.run()
        XCTAssertEqual(seen.first, .object(["order": .string("o-1"), "idempotency_key": .string("wf-1:a:1")]))
    }

    func testAFailedStepCompensatesTheCompletedOnesInReverseOrderOnce() throws {
        var simulator = try sim(saga)
        simulator.services["svc.c"] = { _ in throw Simulator.Failure(kind: .failed, message: "c broke") }
        var undone: [String] = []
        simulator.services["svc.undo"] = { payload in undone.append(payload["what"]?.string ?? ""); return .null }
        let result = simulator.run()
        XCTAssertEqual(result.status, .failed)
        XCTAssertEqual(undone, ["b", "a"])
        XCTAssertEqual(simulator.entries(.compensated).map(\.step), ["b", "a"])
        XCTAssertEqual(simulator.entries(.failed).first?.error, "c broke")
    }

    func testRetriesBackOffDeterministicallyAndUseANewKeyPerAttempt() throws {
        let text = """
        {"name": "r", "steps": [{"id": "a", "type": "call", "service": "svc.a", "retry": {"max_attempts": 4, "backoff_ms": 100, "multiplier": 2, "jitter": 0.5}}]}
        """
        var simulator = try sim(text, input: .object([:]))
        var attempts = 0
        simulator.services["svc.a"] = { _ in
            attempts += 1
            if attempts < 3 { throw Simulator.Failure(kind: .timeout, message: "slow") }
            return .object([:])
        }
        XCTAssertEqual(simulator.run().status, .completed)
        XCTAssertEqual(simulator.calls.map(\.key), ["wf-1:a:1", "wf-1:a:2", "wf-1:a:3"])
        let scheduled = simulator.entries(.stepScheduled).map(\.time)
        let policy = RetryPolicy(maxAttempts: 4, backoffMilliseconds: 100, multiplier: 2, jitter: 0.5)
        XCTAssertEqual(scheduled[1] - scheduled[0], Int64(policy.delay(afterAttempt: 1, seed: "wf-1:a:1")))
        XCTAssertEqual(scheduled[2] - scheduled[1], Int64(policy.delay(afterAttempt: 2, seed: "wf-1:a:2")))
        XCTAssertGreaterThanOrEqual(policy.delay(afterAttempt: 2, seed: "x"), 100, "200 ms less at most half of it")
        XCTAssertLessThanOrEqual(policy.delay(afterAttempt: 2, seed: "x"), 200)
    }

    func testErrorsOutsideRetryOnAndMissingPluginsAreNotRetried() throws {
        let text = """
        {"name": "r", "steps": [{"id": "a", "type": "call", "service": "svc.a", "retry": {"max_attempts": 5, "retry_on": ["timeout"]}},
                                {"id": "w", "type": "call", "service": "whitelabel.tenants.create"}]}
        """
        var simulator = try sim(text, input: .object([:]))
        simulator.services["svc.a"] = { _ in throw Simulator.Failure(kind: .garbage, message: "not json") }
        XCTAssertEqual(simulator.run().status, .failed)
        XCTAssertEqual(simulator.calls.count, 1)

        var missing = try sim(text, input: .object([:]))
        missing.services["svc.a"] = { _ in .object([:]) }
        let result = missing.run()
        XCTAssertEqual(result.status, .failed)
        XCTAssertEqual(missing.entries(.failed).first?.error, "service 'whitelabel.tenants.create' is not offered: plugin 'whitelabel' is not loaded")
    }

    func testReplayAfterACrashMidStepRunsTheSameAttemptAgain() throws {
        var simulator = try sim(saga)
        simulator.run()
        // The history as it stood when the process died: b scheduled, its reply never recorded.
        let cut = simulator.history.firstIndex { $0.kind == .stepScheduled && $0.step == "b" }!
        let evaluation = Interpreter.evaluate(simulator.definition, instanceID: "wf-1", history: Array(simulator.history[...cut]), now: 5_000)
        XCTAssertEqual(evaluation.status, .running)
        XCTAssertEqual(evaluation.current, ["b"])
        guard case let .call(step, attempt, _, payload, key)? = evaluation.actions.first else { return XCTFail("\(evaluation.actions)") }
        XCTAssertEqual([step, key], ["b", "wf-1:b:1"])
        XCTAssertEqual(attempt, 1)
        XCTAssertEqual(payload["from"], .number(7), "the state is rebuilt from a's recorded reply")
        XCTAssertEqual(evaluation.state["ra"], .object(["value": .number(7)]))
    }

    func testReplayMidCompensationNeverRepeatsADoneCompensation() throws {
        var simulator = try sim(saga)
        simulator.services["svc.c"] = { _ in throw Simulator.Failure(kind: .failed, message: "c broke") }
        simulator.run()
        // Cut after b's compensation is recorded and a's is scheduled.
        let cut = simulator.history.firstIndex { $0.kind == .compensationScheduled && $0.step == "a" }!
        let evaluation = Interpreter.evaluate(simulator.definition, instanceID: "wf-1", history: Array(simulator.history[...cut]), now: 9_000)
        XCTAssertEqual(evaluation.status, .compensating)
        XCTAssertEqual(evaluation.actions.map(\.key), ["compensate:a:1"])
        // Cut while b's compensation was under way: it runs again with the same key, a's waits.
        let early = simulator.history.firstIndex { $0.kind == .compensationScheduled && $0.step == "b" }!
        let again = Interpreter.evaluate(simulator.definition, instanceID: "wf-1", history: Array(simulator.history[...early]), now: 9_000)
        guard case let .compensate(step, _, _, _, key)? = again.actions.first else { return XCTFail("\(again.actions)") }
        XCTAssertEqual([step, key], ["b", "wf-1:b:compensate:1"])
    }

    func testCancelCompensatesAndEndsCancelled() throws {
        let text = """
        {"name": "c", "steps": [{"id": "a", "type": "call", "service": "svc.a", "compensate": {"service": "svc.undo"}},
                                {"id": "wait", "type": "wait_signal", "signal": "go"}]}
        """
        var simulator = try sim(text, input: .object([:]))
        XCTAssertEqual(simulator.run().status, .running, "waits for the signal")
        XCTAssertEqual(simulator.evaluate().current, ["wait"])
        simulator.history.append(HistoryEvent(.cancelRequested, error: "cancelled by ada", time: simulator.now))
        let result = simulator.run()
        XCTAssertEqual(result.status, .cancelled)
        XCTAssertEqual(simulator.entries(.compensated).map(\.step), ["a"])
        XCTAssertEqual(simulator.entries(.cancelled).first?.error, "cancelled by ada")
    }

    func testParallelBranchesChoiceSignalsAndSleep() throws {
        let text = """
        {"name": "p", "input": ["n"], "steps": [
          {"id": "fork", "type": "parallel", "branches": [
             [{"id": "a", "type": "call", "service": "svc.a", "output": "ra"}],
             [{"id": "nap", "type": "sleep", "for_ms": 250}, {"id": "c", "type": "call", "service": "svc.c", "output": "rc"}]]},
          {"id": "pick", "type": "choice", "choices": [{"when": {"path": "$.input.n", "op": "gte", "value": 10}, "next": "big"}], "default": "small"},
          {"id": "small", "type": "fail", "message": "n={{$.input.n}} is small"},
          {"id": "big", "type": "wait_signal", "signal": "approve", "output": "approval"}
        ]}
        """
        var small = try sim(text, input: .object(["n": .number(3)]))
        let failed = small.run()
        XCTAssertEqual(failed.status, .failed)
        XCTAssertEqual(small.entries(.failed).first?.error, "n=3 is small")
        XCTAssertEqual(small.entries(.timerStarted).first?.at, 1_250)

        var big = try sim(text, input: .object(["n": .number(12)]))
        XCTAssertEqual(big.run().status, .running)
        XCTAssertEqual(big.evaluate().current, ["big"])
        big.history.append(HistoryEvent(.signalReceived, data: .object(["by": .string("ada")]), name: "approve", time: big.now))
        let done = big.run()
        XCTAssertEqual(done.status, .completed)
        XCTAssertEqual(done.output?["approval"], .object(["by": .string("ada")]))
        XCTAssertNotNil(done.output?["ra"])
        XCTAssertNotNil(done.output?["rc"])
    }

    func testAWaitForAnEventTimesOutAndAnOnErrorJumpCatchesIt() throws {
        let text = """
        {"name": "e", "input": ["id"], "steps": [
          {"id": "paid", "type": "wait_event", "topic": "payments.received", "correlate": {"event": "$.order", "equals": "$.input.id"},
           "timeout_ms": 1000, "output": "payment", "on_error": "remind"},
          {"id": "ship", "type": "call", "service": "svc.a", "next": "end"},
          {"id": "remind", "type": "call", "service": "svc.c", "input": {"why": "$.error.message"}}
        ]}
        """
        var simulator = try sim(text, input: .object(["id": .string("o-9")]))
        let waiting = simulator.evaluate()
        XCTAssertEqual(waiting.actions.map(\.key), ["record:wait.started:paid:0"])
        simulator.history.append(HistoryEvent(.waitStarted, step: "paid", at: 2_000, time: 1_000))
        let armed = simulator.evaluate()
        XCTAssertTrue(armed.actions.contains(.waitEvent(step: "paid", topic: "payments.received", eventPath: JSONPath("$.order"), equals: .string("o-9"))))
        let result = simulator.run()
        XCTAssertEqual(result.status, .completed)
        XCTAssertEqual(simulator.calls.map(\.service), ["svc.c"], "the timeout went to 'remind', not 'ship'")
        XCTAssertEqual(result.state["error"]?["kind"], .string("timeout"))
    }

    func testAnOptionalStepOfAMissingPluginIsSkipped() throws {
        let text = """
        {"name": "o", "steps": [{"id": "check", "type": "call", "service": "compliance.check", "optional": true, "output": "report"},
                                {"id": "after", "type": "call", "service": "svc.a"}]}
        """
        var simulator = try sim(text, input: .object([:]))
        let result = simulator.run()
        XCTAssertEqual(result.status, .completed)
        XCTAssertEqual(simulator.calls.map(\.service), ["compliance.check", "svc.a"])
        XCTAssertEqual(simulator.entries(.stepFailed).first?.failure, .missing)
    }
}
