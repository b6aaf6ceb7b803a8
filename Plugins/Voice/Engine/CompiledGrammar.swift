/// A grammar ready for the decoders: the intents, their JSGF text and pronunciations for the words the
/// dictionary lacks. Immutable; a new one replaces the old one on an intents change.
public final class CompiledGrammar: Sendable {
    public let intents: IntentGrammar
    public let jsgf: String
    /// Words missing from the dictionary, with CMU phones derived from espeak-ng's phonemiser.
    public let addedPronunciations: [String: [String]]
    /// Increases with every compiled grammar, so each decoder knows when to reload.
    public let generation: Int

    init(intents: IntentGrammar, addedPronunciations: [String: [String]], generation: Int) {
        self.intents = intents
        self.jsgf = intents.jsgf
        self.addedPronunciations = addedPronunciations
        self.generation = generation
    }
}

/// The word list of a CMU pronunciation dictionary (which words need no espeak-ng pronunciation).
public struct PronunciationDictionary: Sendable {
    public let words: Set<String>

    /// Reads the words (first field of each line, without `(2)` variants) of a dictionary file.
    public init(path: String) throws {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var words = Set<String>()
        words.reserveCapacity(140_000)
        for line in text.split(separator: "\n") {
            guard let first = line.split(separator: " ", maxSplits: 1).first else { continue }
            if let paren = first.firstIndex(of: "(") { words.insert(String(first[..<paren])) } else { words.insert(String(first)) }
        }
        self.words = words
    }
}
