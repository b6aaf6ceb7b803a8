/// The unit of comparison.
public enum Granularity: String, Codable, Sendable, CaseIterable {
    /// Whole lines (each token includes its trailing newline).
    case line
    /// Words, whitespace runs, newlines and single punctuation marks.
    case word
    /// Extended grapheme clusters (user-perceived characters).
    case character
}

/// The difference algorithm.
public enum DiffAlgorithm: String, Codable, Sendable, CaseIterable {
    /// Myers' O(ND) algorithm in linear space (divide and conquer on the middle snake); minimal edit script.
    case myers
    /// Histogram diff (as in JGit/git): anchors on rare common tokens, more readable, not always minimal.
    case histogram
}

/// Options controlling a comparison.
public struct DiffOptions: Sendable, Codable, Equatable {
    /// The unit of comparison.
    public var granularity: Granularity
    /// The algorithm used to compute the edit script.
    public var algorithm: DiffAlgorithm
    /// Treat tokens that differ only in whitespace as equal.
    public var ignoreWhitespace: Bool
    /// Treat tokens that differ only in letter case as equal.
    public var ignoreCase: Bool
    /// Run the semantic clean-up pass (word and character granularity only).
    public var semanticCleanup: Bool
    /// Detect moved (and moved-and-modified) blocks.
    public var detectMoves: Bool
    /// Minimum token-similarity (Dice coefficient over words, 0...1) for pairing a deleted and an inserted block as a modified move.
    public var moveSimilarityThreshold: Double
    /// Minimum number of non-whitespace characters in a block for it to be considered a move.
    public var minimumMoveCharacters: Int

    /// Creates options; defaults are line granularity, Myers, no ignoring, clean-up and move detection on.
    public init(granularity: Granularity = .line, algorithm: DiffAlgorithm = .myers,
                ignoreWhitespace: Bool = false, ignoreCase: Bool = false,
                semanticCleanup: Bool = true, detectMoves: Bool = true,
                moveSimilarityThreshold: Double = 0.6, minimumMoveCharacters: Int = 12) {
        self.granularity = granularity
        self.algorithm = algorithm
        self.ignoreWhitespace = ignoreWhitespace
        self.ignoreCase = ignoreCase
        self.semanticCleanup = semanticCleanup
        self.detectMoves = detectMoves
        self.moveSimilarityThreshold = moveSimilarityThreshold
        self.minimumMoveCharacters = minimumMoveCharacters
    }
}
