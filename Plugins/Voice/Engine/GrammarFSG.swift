/// A free phone loop offered as an alternative to some of the grammar's words, with a penalty: where the audio
/// fits "any phones" better than every word the grammar allows there, by more than the penalty, the best path goes
/// through the loop, and the utterance is not an intent.
public struct GarbageLoop: Sendable, Equatable {
    /// Probability of taking the loop instead of the word (once per place).
    public var entryProbability: Double
    /// Probability of each phone inside the loop (a penalty that grows with the substitute's length).
    public var phoneProbability: Double
    /// The dictionary words of the loop's phones.
    public var phoneWords: [String]
    /// Whether slot values get a loop too (the last required literal word of a template always does).
    public var besideSlots: Bool
    /// A loop of common words offered instead of every slot value and whatever follows it (to the end of the
    /// utterance), entered with ``wordLoopEntryProbability``: out-of-grammar speech then decodes through real words
    /// rather than through a slot value that sounds a little like it. Empty: no word loop.
    public var loopWords: [LoopWord] = []
    /// Probability of taking the word loop instead of a slot value.
    public var wordLoopEntryProbability: Double = 0

    /// One word of the word loop and its probability inside the loop.
    public struct LoopWord: Sendable, Equatable {
        public var word: String
        public var probability: Double

        public init(word: String, probability: Double) {
            self.word = word
            self.probability = probability
        }
    }

    public init(entryProbability: Double, phoneProbability: Double, phoneWords: [String], besideSlots: Bool = true) {
        self.entryProbability = entryProbability
        self.phoneProbability = phoneProbability
        self.phoneWords = phoneWords
        self.besideSlots = besideSlots
    }
}

extension IntentGrammar {
    /// The grammar as a PocketSphinx finite-state grammar (the text `fsg_model_read` takes): the same paths as
    /// ``jsgf``, plus, when `garbage` is given, a garbage loop beside the last required literal word of every
    /// template and, with `besideSlots`, beside every slot value (where one-word substitutions like "what is the weather like *in spain*" hide: a
    /// whole-utterance score cannot see them, since the rest of the path is right). Words of trailing optional
    /// parts get no loop, so silence after "call acme" is not taken for a missing "now". Each slot use spells out
    /// the slot's word trie (``WordTrie``).
    public func fsg(garbage: GarbageLoop?) -> String {
        var builder = FSGBuilder(garbage: garbage, slotTries: slotTries, recording: true)
        let start = builder.newState(), end = builder.newState()
        for intentTemplates in templates {
            for parts in intentTemplates { builder.sequence(parts, from: start, to: end, final: true) }
        }
        builder.wordLoop(to: end)
        var lines = ["FSG_BEGIN plexus", "NUM_STATES \(builder.states)", "START_STATE \(start)", "FINAL_STATE \(end)"]
        lines += builder.transitions
        lines.append("FSG_END")
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Builds FSG transitions from parsed templates (states are numbered as they are made). It also counts what
/// PocketSphinx will have to do with them: transitions, and the work of repeated words leaving one state.
struct FSGBuilder {
    let garbage: GarbageLoop?
    let slotTries: [String: WordTrie]
    /// Whether the transition lines are kept (false: only counted).
    let recording: Bool
    var states = 0
    var transitions: [String] = []
    /// Transitions made so far (word and empty ones).
    var transitionCount = 0
    /// Σ over states and words of n(n+1)/2, n the number of transitions with that word leaving that state: the
    /// sibling walks PocketSphinx's lextree build (`fsg_psubtree_init`) makes, since each repeat of a word in a
    /// state's tree is appended after all the earlier ones.
    var repeatedWordWork = 0
    /// Phones over all word transitions so far (with ``phones``; 0 without).
    var phoneCount = 0
    /// A word's phone count, when the builder counts phones.
    let phones: ((String) -> Int)?
    /// The most repeated (state, word) so far and its count.
    var mostRepeated: (word: String, count: Int) = ("", 0)
    private var wordsLeaving: [WordLeaving: Int] = [:]
    /// States where a slot starts (where the word loop, if any, is entered).
    private var slotStarts: [Int] = []

    private struct WordLeaving: Hashable {
        var state: Int
        var word: String
    }

    init(garbage: GarbageLoop?, slotTries: [String: WordTrie], recording: Bool, phones: ((String) -> Int)? = nil) {
        self.garbage = garbage
        self.slotTries = slotTries
        self.recording = recording
        self.phones = phones
    }

    mutating func newState() -> Int {
        states += 1
        return states - 1
    }

    mutating func link(_ from: Int, _ to: Int, _ probability: Double = 1, _ word: String? = nil) {
        transitionCount += 1
        if let word {
            let key = WordLeaving(state: from, word: word)
            let count = wordsLeaving[key, default: 0] + 1
            wordsLeaving[key] = count
            repeatedWordWork = repeatedWordWork.addingReportingOverflow(count).overflow ? Int.max : repeatedWordWork + count
            if count > mostRepeated.count { mostRepeated = (word, count) }
            if let phones { phoneCount = phoneCount.addingReportingOverflow(phones(word)).overflow ? Int.max : phoneCount + phones(word) }
        }
        if recording { transitions.append("TRANSITION \(from) \(to) \(probability)" + (word.map { " " + $0 } ?? "")) }
    }

    /// `from` to `to` through one or more phones, entered with the loop's penalty.
    mutating func garbageLoop(from: Int, to: Int) {
        guard let garbage else { return }
        let inside = newState(), afterPhone = newState()
        link(from, inside, garbage.entryProbability)
        for word in garbage.phoneWords { link(inside, afterPhone, garbage.phoneProbability, word) }
        link(afterPhone, inside)
        link(afterPhone, to)
    }

    /// The word loop, entered from every slot's start and left to `end` (one loop shared by all slots).
    mutating func wordLoop(to end: Int) {
        guard let garbage, !slotStarts.isEmpty else { return }
        let hub = newState(), afterWord = newState()
        for state in slotStarts { link(state, hub, garbage.wordLoopEntryProbability) }
        for word in garbage.loopWords { link(hub, afterWord, word.probability, word.word) }
        link(afterWord, hub)
        link(afterWord, end)
    }

    /// `parts` from `from` to `to`; `final` when nothing required follows them in the template.
    mutating func sequence(_ parts: [TemplatePart], from: Int, to: Int, final: Bool) {
        guard !parts.isEmpty else { return link(from, to) }
        // The last required part is the final one; trailing optional parts are not.
        var lastRequired = -1
        if final, let index = parts.lastIndex(where: { !$0.isOptional }) { lastRequired = index }
        var current = from
        for (index, part) in parts.enumerated() {
            let next = index == parts.count - 1 ? to : newState()
            self.part(part, from: current, to: next, final: index == lastRequired)
            current = next
        }
    }

    mutating func part(_ part: TemplatePart, from: Int, to: Int, final: Bool) {
        switch part {
        case .word(let word):
            link(from, to, 1, word)
            if final { garbageLoop(from: from, to: to) }
        case .slot(let name):
            if let trie = slotTries[name] { spell(trie, from: from, to: to) }
            if garbage?.besideSlots == true { garbageLoop(from: from, to: to) }
            if let garbage, !garbage.loopWords.isEmpty, garbage.wordLoopEntryProbability > 0 { slotStarts.append(from) }
        case .choice(let alternatives, let optional):
            for alternative in alternatives where !alternative.isEmpty { sequence(alternative, from: from, to: to, final: final) }
            if optional || alternatives.contains(where: \.isEmpty) { link(from, to) }
        }
    }

    /// Every value of `trie` from `from` to `to`, one transition per trie arc (an explicit stack: values can be long).
    mutating func spell(_ trie: WordTrie, from: Int, to: Int) {
        var pending = [(node: 0, state: from)]
        while let (node, state) = pending.popLast() {
            for arc in trie.nodes[node] {
                if arc.ends { link(state, to, 1, arc.word) }
                if let next = arc.next {
                    let inner = newState()
                    link(state, inner, 1, arc.word)
                    pending.append((next, inner))
                }
            }
        }
    }
}

extension TemplatePart {
    /// `[...]` (or a group with an empty alternative): may be left out.
    var isOptional: Bool {
        if case .choice(let alternatives, let optional) = self { return optional || alternatives.contains(where: \.isEmpty) }
        return false
    }
}
