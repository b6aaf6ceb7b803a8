/// Intents compiled once: the parsed templates are the single source of both the recogniser's JSGF
/// grammar (``jsgf``) and the transcript parser (``match(_:)``), so the two cannot disagree.
public struct IntentGrammar: Sendable {
    /// The configuration this grammar was compiled from.
    public let configuration: IntentConfiguration
    /// Per intent, its parsed templates.
    public let templates: [[[TemplatePart]]]
    /// Slot name to its values, each split into words.
    public let slotPhrases: [String: [[String]]]
    /// Every word the grammar can produce.
    public let vocabulary: Set<String>

    /// Limits on what operators may define.
    public static let maxIntents = 500
    public static let maxTemplatesPerIntent = 200
    public static let maxTemplateLength = 1_000
    public static let maxSlotValues = 5_000
    /// At most this many word transitions in the finite-state grammar: each use of a slot spells
    /// out every value, so slots used often with many values multiply (the decoder holds it all).
    public static let maxTransitions = 500_000

    /// Parses and checks `configuration`: 422-style ``IntentError`` naming the intent, template and position.
    public init(_ configuration: IntentConfiguration) throws(IntentError) {
        self.configuration = configuration
        guard !configuration.intents.isEmpty else { throw .invalid("no intents: the grammar would be empty") }
        guard configuration.intents.count <= Self.maxIntents else { throw .invalid("\(configuration.intents.count) intents; at most \(Self.maxIntents)") }
        var words = Set<String>()
        var phrases: [String: [[String]]] = [:]
        for (name, values) in configuration.slots {
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                throw .invalid("slot name '\(name)' must be letters, digits and '_'")
            }
            guard !values.isEmpty else { throw .invalid("slot '\(name)' has no values") }
            guard values.count <= Self.maxSlotValues else { throw .invalid("slot '\(name)' has \(values.count) values; at most \(Self.maxSlotValues)") }
            var split: [[String]] = []
            for (index, value) in values.enumerated() {
                let tokens = Self.words(of: value)
                guard !tokens.isEmpty else {
                    throw .invalid("slot '\(name)' value \(index) (\"\(value)\") has no words")
                }
                split.append(tokens)
                words.formUnion(tokens)
            }
            phrases[name] = split
        }
        var seen = Set<String>()
        var parsed: [[[TemplatePart]]] = []
        var transitions = 0
        let known = Set(configuration.slots.keys)
        for intent in configuration.intents {
            guard !intent.name.isEmpty, seen.insert(intent.name).inserted else { throw .invalid("intent name '\(intent.name)' is empty or used twice") }
            guard !intent.templates.isEmpty else { throw .invalid("intent '\(intent.name)' has no templates") }
            guard intent.templates.count <= Self.maxTemplatesPerIntent else { throw .invalid("intent '\(intent.name)' has more than \(Self.maxTemplatesPerIntent) templates") }
            if let action = intent.action, (action.service == nil) == (action.publish == nil) {
                throw .invalid("intent '\(intent.name)': an action names exactly one of 'service' or 'publish'")
            }
            var intentTemplates: [[TemplatePart]] = []
            for template in intent.templates {
                guard template.count <= Self.maxTemplateLength else {
                    throw .template(TemplateError(intent: intent.name, template: String(template.prefix(40)) + "…", position: Self.maxTemplateLength, reason: "longer than \(Self.maxTemplateLength) characters"))
                }
                let parts: [TemplatePart]
                do {
                    parts = try TemplateParser.parse(template, intent: intent.name, knownSlots: known)
                } catch {
                    throw .template(error)
                }
                Self.collectWords(parts, into: &words)
                intentTemplates.append(parts)
                transitions += Self.transitions(parts, phrases)
                guard transitions <= Self.maxTransitions else {
                    throw .invalid("intent '\(intent.name)': the grammar grows past \(Self.maxTransitions) word transitions at the template \"\(template.prefix(40))\" (each use of a slot spells out all its values: use fewer values or fewer slot uses)")
                }
            }
            parsed.append(intentTemplates)
        }
        templates = parsed
        slotPhrases = phrases
        vocabulary = words
    }

    /// The word transitions `parts` add to the finite-state grammar (saturating).
    static func transitions(_ parts: [TemplatePart], _ phrases: [String: [[String]]]) -> Int {
        parts.reduce(0) { total, part in
            let added: Int
            switch part {
            case .word: added = 1
            case .slot(let name): added = (phrases[name] ?? []).reduce(0) { $0 + $1.count }
            case .choice(let alternatives, _): added = alternatives.reduce(0) { $0.addingReportingOverflow(transitions($1, phrases)).partialValue }
            }
            let (sum, overflow) = total.addingReportingOverflow(added)
            return overflow ? Int.max : sum
        }
    }

    /// Splits text into lower-case words of letters, digits, `'` and `-`.
    public static func words(of text: String) -> [String] {
        text.lowercased().split { !($0.isLetter || $0.isNumber || $0 == "'" || $0 == "-") }.map(String.init)
    }

    private static func collectWords(_ parts: [TemplatePart], into words: inout Set<String>) {
        for part in parts {
            switch part {
            case .word(let w): words.insert(w)
            case .slot: break
            case .choice(let alternatives, _): alternatives.forEach { collectWords($0, into: &words) }
            }
        }
    }
}

/// A slot filled in a transcript.
public struct FilledSlot: Codable, Sendable, Equatable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// A transcript matched to an intent.
public struct IntentMatch: Sendable, Equatable {
    /// Index into the configuration's intents.
    public var intentIndex: Int
    public var intent: String
    /// Slots in spoken order, with the configured spelling of the value.
    public var slots: [FilledSlot]
}
