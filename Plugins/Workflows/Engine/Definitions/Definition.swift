/// A workflow definition: named, versioned by the store, a list of steps run in order (or by
/// `next` jumps forward), with an optional output mapping.
public struct Definition: Sendable, Equatable {
    public static func == (lhs: Definition, rhs: Definition) -> Bool {
        lhs.name == rhs.name && lhs.description == rhs.description && lhs.inputFields == rhs.inputFields && lhs.steps == rhs.steps
            && lhs.output == rhs.output && lhs.trigger?.topic == rhs.trigger?.topic && lhs.trigger?.input == rhs.trigger?.input
    }

    /// The workflow's name (`[a-z0-9-]`, 1 to 64).
    public var name: String
    /// What it does.
    public var description: String
    /// Input fields the start request must carry.
    public var inputFields: [String]
    /// The top-level steps.
    public var steps: [Step]
    /// What the completed instance returns (default: the whole state).
    public var output: Mapping?
    /// Starts an instance for every event on a topic (a shipped definition's), its input mapped from the payload.
    public var trigger: (topic: String, input: Mapping)?
    /// Every step by id, nested ones included.
    public private(set) var stepsByID: [String: Step] = [:]

    /// A definition; ``stepsByID`` is built from `steps`.
    public init(name: String, description: String = "", inputFields: [String] = [], steps: [Step], output: Mapping? = nil,
                trigger: (topic: String, input: Mapping)? = nil) {
        self.trigger = trigger
        self.name = name
        self.description = description
        self.inputFields = inputFields
        self.steps = steps
        self.output = output
        var index: [String: Step] = [:]
        func add(_ list: [Step]) {
            for step in list {
                index[step.id] = step
                if case let .parallel(branches) = step.kind { branches.forEach(add) }
            }
        }
        add(steps)
        stepsByID = index
    }
}

/// One step of a definition.
public struct Step: Sendable, Equatable {
    /// Unique in the definition.
    public var id: String
    /// What it does.
    public var kind: Kind
    /// The step that follows (default: the next one in its list; `"end"` ends the list).
    public var next: String?
    /// Where to go when the step fails for good (its error is at `$.error`), instead of failing the workflow.
    public var onError: String?
    /// The state field the step's result is written to.
    public var output: String?
    /// A failure of a missing plugin skips the step instead of failing the workflow.
    public var optional: Bool
    /// What undoes the step once it completed.
    public var compensation: ServiceCall?

    /// The kinds of step.
    public enum Kind: Sendable, Equatable {
        /// Calls a bus service.
        case call(ServiceCall)
        /// Runs the branches at once; done when all are.
        case parallel([[Step]])
        /// Goes to the first choice whose condition holds, else `otherwise`.
        case choice([(Condition, String)], otherwise: String?)
        /// Waits for a duration (`.forMilliseconds`) or until a time from the state.
        case sleep(Wait)
        /// Waits for an event on `topic` whose payload at `eventPath` equals `equals` (resolved).
        case waitEvent(topic: String, eventPath: JSONPath?, equals: Mapping?, timeoutMilliseconds: Int?)
        /// Waits for a signal sent to the instance.
        case waitSignal(name: String, timeoutMilliseconds: Int?)
        /// Publishes an event.
        case publish(topic: String, payload: Mapping)
        /// Runs another workflow and waits for it.
        case child(workflow: String, input: Mapping)
        /// Fails the workflow with a message.
        case fail(message: String)

        public static func == (lhs: Kind, rhs: Kind) -> Bool {
            switch (lhs, rhs) {
            case let (.call(a), .call(b)): a == b
            case let (.parallel(a), .parallel(b)): a == b
            case let (.choice(a, x), .choice(b, y)): x == y && a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
            case let (.sleep(a), .sleep(b)): a == b
            case let (.waitEvent(a, b, c, d), .waitEvent(e, f, g, h)): a == e && b == f && c == g && d == h
            case let (.waitSignal(a, b), .waitSignal(c, d)): a == c && b == d
            case let (.publish(a, b), .publish(c, d)): a == c && b == d
            case let (.child(a, b), .child(c, d)): a == c && b == d
            case let (.fail(a), .fail(b)): a == b
            default: false
            }
        }
    }

    /// How long a sleep lasts.
    public enum Wait: Sendable, Equatable {
        case forMilliseconds(Int)
        /// A mapping resolving to epoch milliseconds or an ISO 8601 time.
        case until(Mapping)
    }

    /// The name of the step's kind, as written in definitions.
    public var typeName: String {
        switch kind {
        case .call: "call"
        case .parallel: "parallel"
        case .choice: "choice"
        case .sleep: "sleep"
        case .waitEvent: "wait_event"
        case .waitSignal: "wait_signal"
        case .publish: "publish"
        case .child: "child"
        case .fail: "fail"
        }
    }
}

/// A call of a bus service: its name, input, timeout and retry policy.
public struct ServiceCall: Sendable, Equatable {
    /// The service, e.g. `doccompare.version`.
    public var service: String
    /// The plugin that offers it (default: the service name's first segment), named when it is missing.
    public var plugin: String
    /// The request, resolved against the state.
    public var input: Mapping
    /// How long one attempt may take.
    public var timeoutMilliseconds: Int
    /// When and how often to try again.
    public var retry: RetryPolicy

    /// A call.
    public init(service: String, plugin: String? = nil, input: Mapping = Mapping(.object([:])), timeoutMilliseconds: Int = 5000,
                retry: RetryPolicy = RetryPolicy()) {
        self.service = service
        self.plugin = plugin ?? String(service.split(separator: ".").first ?? Substring(service))
        self.input = input
        self.timeoutMilliseconds = timeoutMilliseconds
        self.retry = retry
    }
}
