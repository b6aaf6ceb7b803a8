/// What the plugin must do for an instance, as the interpreter decided from its history.
public enum Action: Sendable, Equatable {
    /// Append this entry to the history (durably), then evaluate again.
    case record(HistoryEvent)
    /// Call a step's service (attempt `attempt`; the entry `step.scheduled` is already durable).
    case call(step: String, attempt: Int, call: ServiceCall, payload: JSON, key: String)
    /// Call a step's compensation (attempt `attempt`; `compensation.scheduled` is already durable).
    case compensate(step: String, attempt: Int, call: ServiceCall, payload: JSON, key: String)
    /// At `at` (epoch ms), append `record` if this wake is still wanted then, or just evaluate again.
    case wake(id: String, at: Int64, record: HistoryEvent?)
    /// Deliver the first event on `topic` whose payload at `eventPath` equals `equals` as `event.received`.
    case waitEvent(step: String, topic: String, eventPath: JSONPath?, equals: JSON?)
    /// The instance waits for signal `name` (signals arrive through the API).
    case waitSignal(step: String, name: String)
    /// Publish, then append `step.completed`.
    case publish(step: String, topic: String, payload: JSON)
    /// Start the child instance `childID` (if it does not exist), then append `child.started`.
    case startChild(step: String, childID: String, workflow: String, input: JSON)
    /// Append the child's outcome once it is over.
    case awaitChild(step: String, childID: String)

    /// The action's identity: the same action from two evaluations has the same key.
    public var key: String {
        switch self {
        case let .record(event): "record:\(event.kind.rawValue):\(event.step ?? ""):\(event.attempt ?? 0)"
        case let .call(step, attempt, _, _, _): "call:\(step):\(attempt)"
        case let .compensate(step, attempt, _, _, _): "compensate:\(step):\(attempt)"
        case let .wake(id, at, _): "wake:\(id):\(at)"
        case let .waitEvent(step, _, _, _): "event:\(step)"
        case let .waitSignal(step, _): "signal:\(step)"
        case let .publish(step, _, _): "publish:\(step)"
        case let .startChild(step, _, _, _): "child:\(step)"
        case let .awaitChild(step, _): "await:\(step)"
        }
    }
}

/// Where an instance stands.
public enum InstanceStatus: String, Sendable, Codable {
    /// Steps are running or waiting.
    case running
    /// A step failed for good or a cancel was asked: compensations run.
    case compensating
    /// Done; the output is in the history's last entry.
    case completed
    /// Failed, after its compensations.
    case failed
    /// Cancelled, after its compensations.
    case cancelled

    /// Whether the instance is over.
    public var isTerminal: Bool { self == .completed || self == .failed || self == .cancelled }
}

/// The interpreter's verdict on an instance: its status, rebuilt state, what to do next.
public struct Evaluation: Sendable {
    /// Where it stands.
    public var status: InstanceStatus
    /// The state rebuilt from the history (input, instance, step outputs, error).
    public var state: JSON
    /// What the plugin must do now.
    public var actions: [Action]
    /// The steps in progress.
    public var current: [String]
    /// Why it failed (or is compensating).
    public var error: String?
    /// The output, once completed.
    public var output: JSON?
}
