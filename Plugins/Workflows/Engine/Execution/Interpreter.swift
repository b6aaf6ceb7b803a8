import Foundation

/// Rebuilds an instance from its definition and history and decides what happens next.
///
/// A pure function of (definition, instance id, history, now): replaying the same history gives
/// the same state and the same decisions, which is what lets an instance resume after a crash.
/// Every effect is preceded by a durable entry (`step.scheduled` before a call,
/// `compensation.scheduled` before a compensation, `timer.started` with its deadline before a
/// sleep), so a crash leaves a history that says what may have happened: an attempt scheduled
/// but without outcome is run again with the same idempotency key.
public struct Interpreter {
    let definition: Definition
    let instanceID: String
    let now: Int64
    let index: HistoryIndex
    /// The state before any step: input and instance.
    let base: JSON
    var state: JSON
    var actions: [Action] = []
    var current: [String] = []
    var stopping = false
    var signalCursor: [String: Int] = [:]

    /// Evaluates `history` of instance `instanceID` at time `now` (epoch milliseconds).
    public static func evaluate(_ definition: Definition, instanceID: String, history: [HistoryEvent], now: Int64) -> Evaluation {
        var interpreter = Interpreter(definition: definition, instanceID: instanceID, history: history, now: now)
        return interpreter.run()
    }

    /// The same, reading only the entries appended since the last evaluation with `cache` (one cache per instance).
    public static func evaluate(_ definition: Definition, instanceID: String, history: [HistoryEvent], now: Int64,
                                cache: inout HistoryCache) -> Evaluation {
        cache.update(history)
        // The base state (input, instance) is the same at every evaluation once the first entry (the input) is read.
        if cache.base == nil, cache.consumed > 0 { cache.base = Self.base(cache.index, instanceID: instanceID, definition: definition) }
        var interpreter = Interpreter(definition: definition, instanceID: instanceID, index: cache.index, now: now, base: cache.base)
        return interpreter.run()
    }

    init(definition: Definition, instanceID: String, history: [HistoryEvent], now: Int64) {
        self.init(definition: definition, instanceID: instanceID, index: HistoryIndex(history), now: now)
    }

    init(definition: Definition, instanceID: String, index: HistoryIndex, now: Int64, base: JSON? = nil) {
        self.definition = definition
        self.instanceID = instanceID
        self.now = now
        self.index = index
        self.base = base ?? Self.base(index, instanceID: instanceID, definition: definition)
        state = self.base
    }

    mutating func run() -> Evaluation {
        if let terminal = index.terminal {
            stopping = true
            _ = runList(definition.steps)
            let status: InstanceStatus = terminal.kind == .completed ? .completed : (terminal.kind == .failed ? .failed : .cancelled)
            return Evaluation(status: status, state: state, actions: [], current: [], error: terminal.error, output: terminal.kind == .completed ? terminal.data : nil)
        }
        var failure: String?
        if let cancel = index.cancel {
            failure = cancel.error ?? "cancelled"
        } else {
            switch runList(definition.steps) {
            case .done:
                let output = definition.output?.resolve(state) ?? outputState()
                return Evaluation(status: .running, state: state, actions: [.record(HistoryEvent(.completed, data: output, time: now))],
                                  current: [], error: nil, output: output)
            case .pending:
                return Evaluation(status: .running, state: state, actions: actions, current: current, error: nil, output: nil)
            case let .failed(message, _):
                failure = message
            }
        }
        // Failing or cancelled: let calls already under way finish (their outcome is recorded), then compensate.
        let reason = failure ?? "failed"
        resetWalk(stopping: true)
        _ = runList(definition.steps)
        let inFlight = actions.filter { if case .call = $0 { return true }; return false }
        if !inFlight.isEmpty {
            return Evaluation(status: .compensating, state: state, actions: inFlight, current: current, error: reason, output: nil)
        }
        actions = []
        current = []
        let done = compensate()
        if !done {
            return Evaluation(status: .compensating, state: state, actions: actions, current: current, error: reason, output: nil)
        }
        let given = index.compensationGaveUp
        let note = given.isEmpty ? "" : "; compensation of \(given.map { "'\($0)'" }.joined(separator: ", ")) failed"
        let terminal = index.cancel != nil
            ? HistoryEvent(.cancelled, error: reason + note, time: now)
            : HistoryEvent(.failed, error: reason + note, time: now)
        return Evaluation(status: .compensating, state: state, actions: [.record(terminal)], current: [], error: reason, output: nil)
    }

    static func base(_ index: HistoryIndex, instanceID: String, definition: Definition) -> JSON {
        .object(["input": index.input, "instance": .object(["id": .string(instanceID), "workflow": .string(definition.name)])])
    }

    mutating func resetWalk(stopping: Bool) {
        self.stopping = stopping
        actions = []
        current = []
        signalCursor = [:]
        state = base
    }

    func outputState() -> JSON {
        guard var fields = state.object else { return state }
        fields["instance"] = nil
        return .object(fields)
    }

    // MARK: Lists and steps

    enum ListOutcome { case done, pending, failed(String, FailureKind) }
    enum StepOutcome { case done(jump: String?), pending, failed(String, FailureKind) }

    mutating func runList(_ steps: [Step]) -> ListOutcome {
        var position = 0
        var guardCount = 0
        while position < steps.count, guardCount <= steps.count {
            guardCount += 1
            let step = steps[position]
            var jump: String?
            switch runStep(step) {
            case .pending: return .pending
            case let .done(target): jump = target ?? step.next
            case let .failed(message, kind):
                if step.optional, kind == .missing {
                    jump = step.next
                } else if let onError = step.onError {
                    JSONPath(segments: [.field("error")]).write(
                        .object(["step": .string(step.id), "message": .string(message), "kind": .string(kind.rawValue)]), into: &state)
                    jump = onError
                } else {
                    return .failed(message, kind)
                }
            }
            if let jump {
                if jump == "end" { return .done }
                guard let target = steps.firstIndex(where: { $0.id == jump }) else { return .done }
                position = target
            } else {
                if case .fail = step.kind { return .done }
                position += 1
            }
        }
        return .done
    }

    mutating func setOutput(_ step: Step, _ value: JSON?) {
        guard let field = step.output, let value else { return }
        JSONPath(segments: [.field(field)]).write(value, into: &state)
    }

    mutating func runStep(_ step: Step) -> StepOutcome {
        let record = index.steps[step.id] ?? StepRecord()
        switch step.kind {
        case let .call(call):
            if let completed = record.completed { setOutput(step, completed.data); return .done(jump: nil) }
            return attempt(step, call, record)
        case let .parallel(branches):
            var pending = false
            var failure: (String, FailureKind)?
            for branch in branches {
                switch runList(branch) {
                case .done: break
                case .pending: pending = true
                case let .failed(message, kind): if failure == nil { failure = (message, kind) }
                }
            }
            if let failure { return .failed(failure.0, failure.1) }
            return pending ? .pending : .done(jump: nil)
        case let .choice(choices, otherwise):
            for (condition, next) in choices where condition.test(state, state: state) { return .done(jump: next) }
            return .done(jump: otherwise)
        case let .sleep(wait):
            if record.timerFired != nil { return .done(jump: nil) }
            if let started = record.timerStarted, let at = started.at {
                if !stopping { actions.append(.wake(id: "timer:\(step.id)", at: at, record: HistoryEvent(.timerFired, step: step.id, time: 0))) }
                current.append(step.id)
                return .pending
            }
            if stopping { return .pending }
            let at: Int64
            switch wait {
            case let .forMilliseconds(milliseconds): at = now + Int64(milliseconds)
            case let .until(mapping):
                guard let time = Self.epochMilliseconds(mapping.resolve(state)) else {
                    return .failed("step '\(step.id)': 'until' is not a time (epoch milliseconds or ISO 8601): \(mapping.resolve(state).text.prefix(60))", .workflow)
                }
                at = time
            }
            actions.append(.record(HistoryEvent(.timerStarted, step: step.id, at: at, time: now)))
            current.append(step.id)
            return .pending
        case let .waitEvent(topic, eventPath, equals, timeout):
            if let received = record.eventReceived { setOutput(step, received.data); return .done(jump: nil) }
            if record.timedOut != nil { return .failed("step '\(step.id)': no event on '\(topic)' arrived within \(timeout ?? 0) ms", .timeout) }
            let expected = equals?.resolve(state)
            return wait(step, record, timeout, .waitEvent(step: step.id, topic: topic, eventPath: eventPath, equals: expected))
        case let .waitSignal(name, timeout):
            if record.timedOut != nil { return .failed("step '\(step.id)': signal '\(name)' did not arrive within \(timeout ?? 0) ms", .timeout) }
            let used = signalCursor[name] ?? 0
            if let signals = index.signals[name], used < signals.count {
                signalCursor[name] = used + 1
                setOutput(step, signals[used])
                return .done(jump: nil)
            }
            return wait(step, record, timeout, .waitSignal(step: step.id, name: name))
        case let .publish(topic, payload):
            if record.completed != nil { return .done(jump: nil) }
            current.append(step.id)
            if !stopping { actions.append(.publish(step: step.id, topic: Mapping.interpolate(topic, state), payload: payload.resolve(state))) }
            return .pending
        case let .child(workflow, input):
            if let completed = record.completed { setOutput(step, completed.data); return .done(jump: nil) }
            if let failed = record.failures.last { return .failed(failed.error ?? "child workflow failed", failed.failure ?? .workflow) }
            current.append(step.id)
            let childID = "\(instanceID).\(step.id)"
            if record.childStarted != nil {
                if !stopping { actions.append(.awaitChild(step: step.id, childID: childID)) }
            } else if !stopping {
                actions.append(.startChild(step: step.id, childID: childID, workflow: workflow, input: input.resolve(state)))
            }
            return .pending
        case let .fail(message):
            return .failed(Mapping.interpolate(message, state), .workflow)
        }
    }

    /// A wait for an event or a signal: `wait.started` (with its deadline) first, then the wait and its deadline.
    mutating func wait(_ step: Step, _ record: StepRecord, _ timeout: Int?, _ action: Action) -> StepOutcome {
        current.append(step.id)
        if let started = record.waitStarted {
            if !stopping {
                actions.append(action)
                if let at = started.at { actions.append(.wake(id: "deadline:\(step.id)", at: at, record: HistoryEvent(.waitTimedOut, step: step.id, time: 0))) }
            }
            return .pending
        }
        if !stopping { actions.append(.record(HistoryEvent(.waitStarted, step: step.id, at: timeout.map { now + Int64($0) }, time: now))) }
        return .pending
    }

    /// A call step not yet completed: run the scheduled attempt, or schedule the next one, or give up.
    mutating func attempt(_ step: Step, _ call: ServiceCall, _ record: StepRecord) -> StepOutcome {
        let lastFailure = record.failures.last
        let failedAttempt = lastFailure?.attempt ?? 0
        if let lastFailure {
            let kind = lastFailure.failure ?? .failed
            if !call.retry.retries(kind, afterAttempt: failedAttempt) {
                return .failed(lastFailure.error ?? "step '\(step.id)' failed", kind)
            }
        }
        current.append(step.id)
        let next = failedAttempt + 1
        if record.scheduled >= next {
            actions.append(.call(step: step.id, attempt: next, call: call, payload: payload(call.input, key: idempotencyKey(step.id, next)),
                                 key: idempotencyKey(step.id, next)))
            return .pending
        }
        if stopping { return .pending }
        if let lastFailure {
            let due = lastFailure.time + Int64(call.retry.delay(afterAttempt: failedAttempt, seed: idempotencyKey(step.id, failedAttempt)))
            if now < due {
                actions.append(.wake(id: "retry:\(step.id):\(next)", at: due, record: nil))
                return .pending
            }
        }
        actions.append(.record(HistoryEvent(.stepScheduled, step: step.id, attempt: next, time: now)))
        return .pending
    }

    /// The idempotency key of attempt `attempt` of `step`: the same on every replay.
    func idempotencyKey(_ step: String, _ attempt: Int) -> String { "\(instanceID):\(step):\(attempt)" }

    /// The request: the mapping resolved, with `idempotency_key` added to an object.
    func payload(_ mapping: Mapping, key: String) -> JSON {
        let resolved = mapping.resolve(state)
        guard var fields = resolved.object else { return resolved }
        if fields["idempotency_key"] == nil { fields["idempotency_key"] = .string(key) }
        return .object(fields)
    }

    // MARK: Compensation

    /// Runs the compensations of completed steps, most recent first, one at a time; true when all are done.
    mutating func compensate() -> Bool {
        for id in index.completionOrder.reversed() {
            guard let step = definition.stepsByID[id], let call = step.compensation else { continue }
            let record = index.compensations[id] ?? CompensationRecord()
            if record.done { continue }
            let failedAttempt = record.failures.last?.attempt ?? 0
            if let failure = record.failures.last, record.scheduled <= failedAttempt {
                let kind = failure.failure ?? .failed
                guard call.retry.retries(kind, afterAttempt: failedAttempt) else { continue }   // given up: the next one
                let due = failure.time + Int64(call.retry.delay(afterAttempt: failedAttempt, seed: "\(instanceID):\(id):compensate:\(failedAttempt)"))
                current.append(id)
                if now < due {
                    actions.append(.wake(id: "compensate:\(id):\(failedAttempt + 1)", at: due, record: nil))
                } else {
                    actions.append(.record(HistoryEvent(.compensationScheduled, step: id, attempt: failedAttempt + 1, time: now)))
                }
                return false
            }
            current.append(id)
            let next = failedAttempt + 1
            if record.scheduled >= next {
                let key = "\(instanceID):\(id):compensate:\(next)"
                actions.append(.compensate(step: id, attempt: next, call: call, payload: payload(call.input, key: key), key: key))
            } else {
                actions.append(.record(HistoryEvent(.compensationScheduled, step: id, attempt: next, time: now)))
            }
            return false
        }
        return true
    }

    /// Epoch milliseconds from a number or an ISO 8601 text.
    static func epochMilliseconds(_ value: JSON) -> Int64? {
        if let number = value.number, number.isFinite, number >= 0, number < 1e15 { return Int64(number) }
        guard let text = value.string else { return nil }
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return Int64(date.timeIntervalSince1970 * 1000) }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text).map { Int64($0.timeIntervalSince1970 * 1000) }
    }
}
