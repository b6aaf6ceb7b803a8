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

/// The word list of a CMU pronunciation dictionary (which words need no espeak-ng pronunciation), with the
/// length of each word's longest pronunciation.
public struct PronunciationDictionary: Sendable {
    /// Word (without `(2)` variants) to the phone count of its longest pronunciation.
    public let phoneCounts: [String: Int]

    /// Whether the dictionary has `word`.
    public func contains(_ word: String) -> Bool { phoneCounts[word] != nil }

    /// Reads the words (first field of each line, without `(2)` variants) and phone counts of a dictionary file.
    public init(path: String) throws {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var counts: [String: Int] = [:]
        counts.reserveCapacity(140_000)
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard let first = fields.first else { continue }
            let word = first.firstIndex(of: "(").map { String(first[..<$0]) } ?? String(first)
            counts[word] = max(counts[word] ?? 0, fields.count - 1)
        }
        phoneCounts = counts
    }
}
