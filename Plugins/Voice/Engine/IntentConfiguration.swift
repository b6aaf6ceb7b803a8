/// The operator's intents in their JSON form (the TOML `intents` key holds the same JSON).
public struct IntentConfiguration: Codable, Sendable, Equatable {
    /// Slot name to the phrases it can take.
    public var slots: [String: [String]]
    /// The intents, in priority order (the first that matches a transcript wins).
    public var intents: [IntentDefinition]

    public init(slots: [String: [String]] = [:], intents: [IntentDefinition]) {
        self.slots = slots
        self.intents = intents
    }
}

/// One intent: its templates, an optional action and an optional spoken answer.
public struct IntentDefinition: Codable, Sendable, Equatable {
    public var name: String
    public var templates: [String]
    public var action: IntentAction?
    /// Answer text with `{slot}`, `{slot.N}` and `{reply.field}` references.
    public var answer: String?

    public init(name: String, templates: [String], action: IntentAction? = nil, answer: String? = nil) {
        self.name = name
        self.templates = templates
        self.action = action
        self.answer = answer
    }
}

/// What an intent does: call a bus service with a request, or publish an event with a payload.
public struct IntentAction: Codable, Sendable, Equatable {
    public var service: String?
    public var request: JSONValue?
    public var publish: String?
    public var payload: JSONValue?

    public init(service: String? = nil, request: JSONValue? = nil, publish: String? = nil, payload: JSONValue? = nil) {
        self.service = service
        self.request = request
        self.publish = publish
        self.payload = payload
    }
}

/// Intents that cannot be used: a malformed template, an unknown slot, an empty grammar, a bad action.
public enum IntentError: Error, Sendable, Equatable, CustomStringConvertible {
    case template(TemplateError)
    case invalid(String)

    public var description: String {
        switch self {
        case .template(let error): return error.description
        case .invalid(let reason): return reason
        }
    }
}
