import WorkflowEngine
import XCTest

/// Drives the interpreter the way the plugin does, with services as closures and a virtual clock.
struct Simulator {
    struct Failure: Error { let kind: FailureKind; let message: String }

    let definition: Definition
    var id = "wf-1"
    var history: [HistoryEvent]
    var now: Int64 = 1_000
    var services: [String: (JSON) throws -> JSON] = [:]
    /// Every service call: service name and idempotency key.
    var calls: [(service: String, key: String)] = []

    init(_ definition: Definition, input: JSON = .object([:])) {
        self.definition = definition
        history = [HistoryEvent(.started, data: input, time: 1_000)]
    }

    /// The cache the plugin keeps per instance; every evaluation is checked against a full replay.
    final class CacheBox { var cache = HistoryCache() }
    let box = CacheBox()

    func evaluate() -> Evaluation {
        let full = Interpreter.evaluate(definition, instanceID: id, history: history, now: now)
        let cached = Interpreter.evaluate(definition, instanceID: id, history: history, now: now, cache: &box.cache)
        XCTAssertEqual(cached.status, full.status, "cached evaluation differs from a full replay")
        XCTAssertEqual(cached.state, full.state)
        XCTAssertEqual(cached.actions, full.actions)
        XCTAssertEqual(cached.current, full.current)
        XCTAssertEqual(cached.error, full.error)
        XCTAssertEqual(cached.output, full.output)
        return cached
    }

    /// Runs until the instance is over or only waits for something outside (a signal or an event).
    @discardableResult
    mutating func run(limit: Int = 500) -> Evaluation {
        for _ in 0..<limit {
            let evaluation = evaluate()
            if evaluation.status.isTerminal { return evaluation }
            var progressed = false
            var wakes: [(Int64, HistoryEvent?)] = []
            for action in evaluation.actions {
                switch action {
                case var .record(event):
                    event.time = now
                    history.append(event)
                    progressed = true
                case let .call(step, attempt, call, payload, key):
                    history.append(invoke(call, payload, key, step: step, attempt: attempt, compensation: false))
                    progressed = true
                case let .compensate(step, attempt, call, payload, key):
                    history.append(invoke(call, payload, key, step: step, attempt: attempt, compensation: true))
                    progressed = true
                case let .wake(_, at, record): wakes.append((at, record))
                case let .publish(step, _, _):
                    history.append(HistoryEvent(.stepCompleted, step: step, time: now))
                    progressed = true
                default: break
                }
            }
            if progressed { continue }
            guard let (at, record) = wakes.min(by: { $0.0 < $1.0 }) else { return evaluation }
            now = max(now, at)
            if var record { record.time = now; history.append(record) }
        }
        return evaluate()
    }

    mutating func invoke(_ call: ServiceCall, _ payload: JSON, _ key: String, step: String, attempt: Int, compensation: Bool) -> HistoryEvent {
        calls.append((call.service, key))
        guard let service = services[call.service] else {
            return HistoryEvent(compensation ? .compensationFailed : .stepFailed, step: step, attempt: attempt,
                                error: "service '\(call.service)' is not offered: plugin '\(call.plugin)' is not loaded", failure: .missing, time: now)
        }
        do {
            let reply = try service(payload)
            return HistoryEvent(compensation ? .compensated : .stepCompleted, step: step, attempt: attempt, data: compensation ? nil : reply, time: now)
        } catch let failure as Failure {
            return HistoryEvent(compensation ? .compensationFailed : .stepFailed, step: step, attempt: attempt, error: failure.message, failure: failure.kind, time: now)
        } catch {
            return HistoryEvent(.stepFailed, step: step, attempt: attempt, error: "\(error)", failure: .failed, time: now)
        }
    }

    func entries(_ kind: HistoryEvent.Kind) -> [HistoryEvent] { history.filter { $0.kind == kind } }
}

func definition(_ text: String, publishable: [String] = []) throws -> Definition {
    try DefinitionParser(publishable: publishable).parse(Array(text.utf8))
}
