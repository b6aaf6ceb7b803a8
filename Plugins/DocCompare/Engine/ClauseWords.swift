/// The words of clauses as compared: layout (indentation, line wrapping, blank lines) is gone,
/// typographic quotes are plain, and numbers such as `9.1` or `5.00` are one word each.
struct ClauseWords {
    /// Word ids per unit, over a vocabulary shared by both versions.
    private(set) var words: [[Int32]] = []
    /// The same without punctuation and the commonest function words: what similarity is measured on.
    private(set) var content: [[Int32]] = []
    private var vocabulary: [String: Int32]
    /// Which word ids are clause-reference numbers (`9.1`, `12`).
    private(set) var numberWords: [Int32: String] = [:]

    /// Tokenizes every unit of a version, sharing `vocabulary` with the other one.
    init(_ units: [Clause], ignoreCase: Bool, vocabulary: inout [String: Int32]) {
        self.vocabulary = vocabulary
        words = units.map { tokens(of: $0.lead + $0.body, ignoreCase: ignoreCase) }
        var stop = Set<Int32>()
        for (word, id) in self.vocabulary where Self.stopWords.contains(word.lowercased()) || !(word.unicodeScalars.first.map {
            $0.properties.isAlphabetic || ($0.value >= 0x30 && $0.value <= 0x39) } ?? false) { stop.insert(id) }
        content = words.map { $0.filter { !stop.contains($0) } }
        vocabulary = self.vocabulary
    }

    /// Words that carry little of a clause's meaning.
    static let stopWords: Set<String> = [
        "the", "a", "an", "of", "to", "in", "and", "or", "for", "by", "with", "on", "at", "this", "that", "be", "is",
        "are", "as", "any", "its", "it", "such", "which", "shall", "will", "may", "from", "under", "all", "each",
        "not", "no", "if", "other", "than", "has", "have", "been", "their", "his", "her", "our", "we", "they",
    ]

    /// The word ids of `text`.
    private mutating func tokens(of text: String, ignoreCase: Bool) -> [Int32] {
        var out: [Int32] = []
        var word = ""
        var numeric = true
        func flush() {
            guard !word.isEmpty else { return }
            while numeric && word.hasSuffix(".") { word.removeLast() }
            let key = ignoreCase ? word.lowercased() : word
            let id: Int32
            if let known = vocabulary[key] { id = known } else { id = Int32(vocabulary.count); vocabulary[key] = id }
            if numeric && !key.isEmpty { numberWords[id] = key }
            out.append(id)
            word = ""
            numeric = true
        }
        var previousDigit = false
        for c in text.unicodeScalars {
            let isDigit = c.value >= 0x30 && c.value <= 0x39
            if c.properties.isAlphabetic || isDigit || c.properties.generalCategory == .nonspacingMark {
                word.unicodeScalars.append(c)
                if !isDigit { numeric = false }
                previousDigit = isDigit
                continue
            }
            if c == "." && previousDigit && numeric { word.unicodeScalars.append(c); previousDigit = false; continue }
            let trailingDot = numeric && word.hasSuffix(".")
            flush()
            if trailingDot { appendSymbol(".", &out) }
            previousDigit = false
            if c.properties.isWhitespace { continue }
            appendSymbol(Self.plain(c), &out)
        }
        let trailingDot = numeric && word.hasSuffix(".")
        flush()
        if trailingDot { appendSymbol(".", &out) }
        return out
    }

    private mutating func appendSymbol(_ s: String, _ out: inout [Int32]) {
        let id: Int32
        if let known = vocabulary[s] { id = known } else { id = Int32(vocabulary.count); vocabulary[s] = id }
        out.append(id)
    }

    /// Curly quotes and dashes as their plain forms.
    static func plain(_ c: Unicode.Scalar) -> String {
        switch c {
        case "\u{201C}", "\u{201D}", "\u{201E}": return "\""
        case "\u{2018}", "\u{2019}": return "'"
        case "\u{2013}", "\u{2014}": return "-"
        default: return String(c)
        }
    }
}

/// Similarity of two word sequences.
enum WordSimilarity {
    /// Dice coefficient of the word multisets (cheap upper bound of ``ordered``), from the words
    /// of each side in ascending order.
    static func bag<T: Comparable>(sorted a: [T], _ b: [T]) -> Double {
        if a.isEmpty && b.isEmpty { return 1 }
        var i = 0, j = 0, common = 0
        while i < a.count && j < b.count {
            if a[i] == b[j] { common += 1; i += 1; j += 1 } else if a[i] < b[j] { i += 1 } else { j += 1 }
        }
        return 2 * Double(common) / Double(a.count + b.count)
    }

    /// The pairs of neighbouring words of `words`, in ascending order.
    static func sortedBigrams(_ words: [Int32]) -> [Int64] {
        guard words.count > 1 else { return [] }
        return (1..<words.count).map { Int64(words[$0 - 1]) << 32 | Int64(UInt32(bitPattern: words[$0])) }.sorted()
    }

    /// Dice coefficient of the longest common subsequence, and the number of changed runs.
    static func ordered(_ a: [Int32], _ b: [Int32]) -> (similarity: Double, changes: Int, ops: [DiffOp]) {
        if a.isEmpty && b.isEmpty { return (1, 0, []) }
        let ops = SequenceDiff.diff(a, b)
        var common = 0, changes = 0
        var inChange = false
        for op in ops {
            if op.kind == .equal { common += op.oldRange.count; inChange = false }
            else if !inChange { changes += 1; inChange = true }
        }
        return (2 * Double(common) / Double(a.count + b.count), changes, ops)
    }
}
