/// Intents compiled once: the parsed templates are the single source of both the recogniser's JSGF
/// grammar (``jsgf``) and the transcript parser (``match(_:)``), so the two cannot disagree.
public struct IntentGrammar: Sendable {
    /// The configuration this grammar was compiled from.
    public let configuration: IntentConfiguration
    /// Per intent, its parsed templates.
    public let templates: [[[TemplatePart]]]
    /// Slot name to its values, each split into words.
    public let slotPhrases: [String: [[String]]]
    /// Slot name to its values as a word trie (what each use of the slot spells out in the finite-state grammar).
    public let slotTries: [String: WordTrie]
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
    /// At most this much repeated-word work (``FSGBuilder/repeatedWordWork``): PocketSphinx builds, for every
    /// grammar state, a tree of the words leaving it, and each transition whose word already leaves that state
    /// walks all the earlier ones, so n repeats cost n²/2. Templates that start alike ("{name} now" in many
    /// intents) repeat every value at the grammar's start: 5,000 such templates over a 4-value slot (50 million
    /// units) took 30 s of CPU to install, 10,000 (200 million units) 130 s (see Plugins/Voice/README.md).
    public static let maxRepeatedWordWork = 1_000_000

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
        let tries = phrases.mapValues(WordTrie.init)
        var seen = Set<String>()
        var parsed: [[[TemplatePart]]] = []
        // Counts what the finite-state grammar will hold before anything is built for PocketSphinx.
        var cost = FSGBuilder(garbage: nil, slotTries: tries, recording: false)
        let start = cost.newState(), end = cost.newState()
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
                // The template's own count first, so one huge template is refused before it is spelled out.
                let (total, overflow) = cost.transitionCount.addingReportingOverflow(Self.transitions(parts, tries))
                guard !overflow, total <= Self.maxTransitions else { throw Self.tooManyTransitions(intent.name, template) }
                cost.sequence(parts, from: start, to: end, final: true)
                guard cost.transitionCount <= Self.maxTransitions else { throw Self.tooManyTransitions(intent.name, template) }
                guard cost.repeatedWordWork <= Self.maxRepeatedWordWork else {
                    throw .invalid("intent '\(intent.name)': the template \"\(template.prefix(40))\" makes the grammar too costly to build: the word '\(cost.mostRepeated.word)' leaves one point of the grammar \(cost.mostRepeated.count) times (templates or alternatives that start alike each spell out their words again, and the recogniser's work grows with the square of the repeats: at most \(Self.maxRepeatedWordWork) units, here \(cost.repeatedWordWork)); merge them, e.g. \"{slot} (now|please)\" for \"{slot} now\" and \"{slot} please\"")
                }
            }
            parsed.append(intentTemplates)
        }
        templates = parsed
        slotPhrases = phrases
        slotTries = tries
        vocabulary = words
    }

    /// At most this many phones over all word transitions of the finite-state grammar: PocketSphinx makes
    /// HMMs for every phone of every transition's word, for each of the two grammar searches of every decoder.
    /// 7 uses of a 5,000-value slot of long espeak-ng words ("name number4321", 986,000 phones) installed on one
    /// decoder in 1.9 s and 130 MB (see Plugins/Voice/README.md).
    public static let maxPhones = 1_000_000

    /// Refuses, naming the intent and template where it passes ``maxPhones``, a grammar whose words spell out
    /// too many phones; `phones` gives a word's phone count (known once pronunciations are).
    public func checkPhones(_ phones: @escaping (String) -> Int) throws(IntentError) {
        var cost = FSGBuilder(garbage: nil, slotTries: slotTries, recording: false, phones: phones)
        let start = cost.newState(), end = cost.newState()
        for (index, intentTemplates) in templates.enumerated() {
            for (position, parts) in intentTemplates.enumerated() {
                cost.sequence(parts, from: start, to: end, final: true)
                guard cost.phoneCount <= Self.maxPhones else {
                    let intent = configuration.intents[index]
                    throw .invalid("intent '\(intent.name)': the grammar grows past \(Self.maxPhones) phones at the template \"\(intent.templates[position].prefix(40))\" (each use of a slot spells out all its values, and long values cost more: use fewer or shorter values, or fewer slot uses)")
                }
            }
        }
    }

    private static func tooManyTransitions(_ intent: String, _ template: String) -> IntentError {
        .invalid("intent '\(intent)': the grammar grows past \(Self.maxTransitions) word transitions at the template \"\(template.prefix(40))\" (each use of a slot spells out all its values: use fewer values or fewer slot uses)")
    }

    /// The word transitions `parts` add to the finite-state grammar (saturating; empty transitions not counted).
    static func transitions(_ parts: [TemplatePart], _ tries: [String: WordTrie]) -> Int {
        parts.reduce(0) { total, part in
            let added: Int
            switch part {
            case .word: added = 1
            case .slot(let name): added = tries[name]?.transitionCount ?? 0
            case .choice(let alternatives, _):
                added = alternatives.reduce(0) { sum, alternative in
                    let (value, overflow) = sum.addingReportingOverflow(transitions(alternative, tries))
                    return overflow ? Int.max : value
                }
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
