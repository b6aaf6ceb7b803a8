/// What a history says, step by step: the interpreter's view of it.
struct HistoryIndex {
    var input: JSON = .object([:])
    var steps: [String: StepRecord] = [:]
    var compensations: [String: CompensationRecord] = [:]
    /// Steps in the order they completed.
    var completionOrder: [String] = []
    /// Signal payloads by name, in arrival order.
    var signals: [String: [JSON]] = [:]
    var cancel: HistoryEvent?
    var terminal: HistoryEvent?

    init(_ history: [HistoryEvent]) {
        // Sized once: growing the dictionary step by step rehashed it several times per evaluation.
        steps.reserveCapacity(history.count / 2 + 1)
        for event in history { add(event) }
    }

    /// Takes in the next entry of the history.
    mutating func add(_ event: HistoryEvent) {
            let id = event.step ?? ""
            switch event.kind {
            case .started: input = event.data ?? .object([:])
            case .stepScheduled: steps[id, default: StepRecord()].scheduled = max(steps[id]?.scheduled ?? 0, event.attempt ?? 1)
            case .stepCompleted:
                if steps[id]?.completed == nil {
                    steps[id, default: StepRecord()].completed = event
                    completionOrder.append(id)
                }
            case .stepFailed: steps[id, default: StepRecord()].failures.append(event)
            case .timerStarted: if steps[id]?.timerStarted == nil { steps[id, default: StepRecord()].timerStarted = event }
            case .timerFired: steps[id, default: StepRecord()].timerFired = event
            case .waitStarted: if steps[id]?.waitStarted == nil { steps[id, default: StepRecord()].waitStarted = event }
            case .eventReceived: if steps[id]?.eventReceived == nil && steps[id]?.timedOut == nil { steps[id, default: StepRecord()].eventReceived = event }
            case .waitTimedOut: if steps[id]?.eventReceived == nil { steps[id, default: StepRecord()].timedOut = event }
            case .signalReceived: signals[event.name ?? "", default: []].append(event.data ?? .null)
            case .childStarted: steps[id, default: StepRecord()].childStarted = event
            case .cancelRequested: if cancel == nil { cancel = event }
            case .compensationScheduled: compensations[id, default: CompensationRecord()].scheduled = max(compensations[id]?.scheduled ?? 0, event.attempt ?? 1)
            case .compensated: compensations[id, default: CompensationRecord()].done = true
            case .compensationFailed: compensations[id, default: CompensationRecord()].failures.append(event)
            case .completed, .failed, .cancelled: if terminal == nil { terminal = event }
            }
    }

    /// Steps whose compensation failed every attempt.
    var compensationGaveUp: [String] {
        compensations.filter { !$0.value.done && !$0.value.failures.isEmpty && $0.value.scheduled <= ($0.value.failures.last?.attempt ?? 0) }
            .keys.sorted()
    }
}

/// One step's entries.
struct StepRecord {
    var scheduled = 0
    var completed: HistoryEvent?
    var failures: [HistoryEvent] = []
    var timerStarted: HistoryEvent?
    var timerFired: HistoryEvent?
    var waitStarted: HistoryEvent?
    var eventReceived: HistoryEvent?
    var timedOut: HistoryEvent?
    var childStarted: HistoryEvent?
}

/// One compensation's entries.
struct CompensationRecord {
    var scheduled = 0
    var done = false
    var failures: [HistoryEvent] = []
}

/// What an instance's history said at the last evaluation, kept between evaluations of that
/// instance so that each one reads only the entries appended since (the history is append-only).
/// Start with an empty cache; a history shorter than what the cache has seen rebuilds it.
public struct HistoryCache: Sendable {
    var index = HistoryIndex([])
    var consumed = 0
    /// The state before any step (the cache belongs to one instance of one definition).
    var base: JSON?
    /// An empty cache.
    public init() {}

    mutating func update(_ history: [HistoryEvent]) {
        if consumed > history.count { self = HistoryCache() }
        for event in history[consumed...] { index.add(event) }
        consumed = history.count
    }
}
