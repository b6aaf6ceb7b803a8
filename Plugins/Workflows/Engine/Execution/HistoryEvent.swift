/// One entry of an instance's history: the append-only record from which its state is rebuilt.
public struct HistoryEvent: Sendable, Equatable, Codable {
    /// What happened.
    public enum Kind: String, Sendable, Codable {
        /// The instance started (`data`: the input).
        case started
        /// An attempt of a call step (or a child) is about to run.
        case stepScheduled = "step.scheduled"
        /// A step finished (`data`: its result).
        case stepCompleted = "step.completed"
        /// An attempt failed (`error`, `failure`); the interpreter decides whether it is retried.
        case stepFailed = "step.failed"
        /// A sleep started (`at`: when it ends).
        case timerStarted = "timer.started"
        /// A sleep ended.
        case timerFired = "timer.fired"
        /// A wait for an event or signal started (`at`: its deadline, if any).
        case waitStarted = "wait.started"
        /// The awaited event arrived (`data`: its payload).
        case eventReceived = "event.received"
        /// A wait ran out.
        case waitTimedOut = "wait.timedout"
        /// A signal was sent to the instance (`name`, `data`).
        case signalReceived = "signal.received"
        /// A child instance was started (`name`: its id).
        case childStarted = "child.started"
        /// Someone asked to cancel (`error`: the reason).
        case cancelRequested = "cancel.requested"
        /// A compensation attempt is about to run.
        case compensationScheduled = "compensation.scheduled"
        /// A compensation finished.
        case compensated
        /// A compensation attempt failed.
        case compensationFailed = "compensation.failed"
        /// The instance completed (`data`: its output).
        case completed
        /// The instance failed (`error`), after its compensations.
        case failed
        /// The instance was cancelled, after its compensations.
        case cancelled
    }

    /// What happened.
    public var kind: Kind
    /// The step it concerns.
    public var step: String?
    /// The attempt number (1-based).
    public var attempt: Int?
    /// A result, input or payload.
    public var data: JSON?
    /// A failure's message.
    public var error: String?
    /// A failure's kind.
    public var failure: FailureKind?
    /// A signal's name or a child's id.
    public var name: String?
    /// A signal's idempotency key, given by its sender (`Idempotency-Key`): a repeat of the same
    /// signal with the same key is answered as the first and not recorded again.
    public var key: String?
    /// A deadline (epoch milliseconds).
    public var at: Int64?
    /// When it was recorded (epoch milliseconds).
    public var time: Int64

    /// An entry.
    public init(_ kind: Kind, step: String? = nil, attempt: Int? = nil, data: JSON? = nil, error: String? = nil,
                failure: FailureKind? = nil, name: String? = nil, key: String? = nil, at: Int64? = nil, time: Int64) {
        self.kind = kind
        self.step = step
        self.attempt = attempt
        self.data = data
        self.error = error
        self.failure = failure
        self.name = name
        self.key = key
        self.at = at
        self.time = time
    }

    /// Whether the instance is over after this entry.
    public var isTerminal: Bool { kind == .completed || kind == .failed || kind == .cancelled }

    /// The entry as a JSON object (the stored and served form).
    public var json: JSON {
        var fields: [String: JSON] = ["kind": .string(kind.rawValue), "time": .number(Double(time))]
        if let step { fields["step"] = .string(step) }
        if let attempt { fields["attempt"] = .number(Double(attempt)) }
        if let data { fields["data"] = data }
        if let error { fields["error"] = .string(error) }
        if let failure { fields["failure"] = .string(failure.rawValue) }
        if let name { fields["name"] = .string(name) }
        if let key { fields["key"] = .string(key) }
        if let at { fields["at"] = .number(Double(at)) }
        return .object(fields)
    }

    /// The stored form: the same text as `json.text` (keys sorted), written directly without building
    /// the object first.
    public var text: String {
        var out: [UInt8] = []
        out.reserveCapacity(96)
        out.append(UInt8(ascii: "{"))
        func field(_ name: StaticString) {
            if out.count > 1 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
            out.append(UInt8(ascii: "\""))
            out.append(UInt8(ascii: ":"))
        }
        if let at { field("at"); JSON.number(Double(at)).write(into: &out) }
        if let attempt { field("attempt"); JSON.number(Double(attempt)).write(into: &out) }
        if let data { field("data"); data.write(into: &out) }
        if let error { field("error"); JSON.escape(error, into: &out) }
        if let failure { field("failure"); JSON.escape(failure.rawValue, into: &out) }
        if let key { field("key"); JSON.escape(key, into: &out) }
        field("kind"); JSON.escape(kind.rawValue, into: &out)
        if let name { field("name"); JSON.escape(name, into: &out) }
        if let step { field("step"); JSON.escape(step, into: &out) }
        field("time"); JSON.number(Double(time)).write(into: &out)
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }

    /// An entry from its JSON object; nil when it is not one.
    public init?(json: JSON) {
        guard let kind = json["kind"]?.string.flatMap(Kind.init(rawValue:)), let time = json["time"]?.number else { return nil }
        self.init(kind, step: json["step"]?.string, attempt: json["attempt"]?.int, data: json["data"], error: json["error"]?.string,
                  failure: json["failure"]?.string.flatMap(FailureKind.init(rawValue:)), name: json["name"]?.string, key: json["key"]?.string,
                  at: json["at"]?.number.map { Int64($0) }, time: Int64(time))
    }
}
