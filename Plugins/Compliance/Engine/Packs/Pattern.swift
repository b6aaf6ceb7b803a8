/// A pattern of a rule pack, compiled to a Thompson NFA and run as a Pike VM: every match costs
/// at most (text length × program size) steps, whatever the pattern, so no pattern can
/// backtrack catastrophically. Matching ignores case.
///
/// Syntax: literals, `\` escapes, `.`, classes `[a-z0-9_]` / `[^…]`, `\d \w \s \D \W \S`,
/// `\b \B`, `^ $` (line anchors), groups `( )` and `(?: )`, `|`, and the quantifiers
/// `* + ? {m} {m,} {m,n}` (bounds up to 100). Backreferences and lookaround are refused:
/// they have no linear-time implementation.
public struct Pattern: Sendable {
    /// The source text.
    public let source: String
    let program: [Instruction]

    /// The largest compiled program accepted.
    public static let maxInstructions = 4000

    enum Instruction: Sendable {
        case scalar(Unicode.Scalar)
        case any
        case set(CharacterSet, negated: Bool)
        case split(Int, Int)
        case jump(Int)
        case lineStart, lineEnd, wordBoundary(Bool)
        case match
    }

    /// A set of scalars as ranges and predicates.
    struct CharacterSet: Sendable {
        var ranges: [ClosedRange<UInt32>] = []
        var digit = false, word = false, space = false
        var notDigit = false, notWord = false, notSpace = false

        func contains(_ s: Unicode.Scalar) -> Bool {
            let v = s.value
            for r in ranges where r.contains(v) { return true }
            if digit && Pattern.isDigit(s) { return true }
            if word && Pattern.isWord(s) { return true }
            if space && s.properties.isWhitespace { return true }
            if notDigit && !Pattern.isDigit(s) { return true }
            if notWord && !Pattern.isWord(s) { return true }
            if notSpace && !s.properties.isWhitespace { return true }
            return false
        }
    }

    static func isDigit(_ s: Unicode.Scalar) -> Bool { s.value >= 0x30 && s.value <= 0x39 }
    static func isWord(_ s: Unicode.Scalar) -> Bool { s.properties.isAlphabetic || isDigit(s) || s == "_" }

    /// Compiles `source`.
    /// - Throws: ``PatternError`` naming the offset and what is wrong.
    public init(_ source: String) throws {
        self.source = source
        var parser = PatternParser(Array(source.unicodeScalars))
        let node = try parser.parseAll()
        var program: [Instruction] = []
        try PatternCompiler.emit(node, into: &program)
        program.append(.match)
        guard program.count <= Self.maxInstructions else {
            throw PatternError(offset: 0, reason: "the pattern compiles to \(program.count) instructions, more than \(Self.maxInstructions) (reduce counted repetitions)")
        }
        self.program = program
    }

    /// Leftmost-first, non-overlapping matches in `text` (lower-cased scalars) as scalar offset ranges.
    func matches(in text: [Unicode.Scalar], limit: Int = 10_000) -> [Range<Int>] {
        var found: [Range<Int>] = []
        var position = 0
        while position <= text.count && found.count < limit {
            guard let range = firstMatch(in: text, from: position) else { break }
            found.append(range)
            position = range.isEmpty ? range.upperBound + 1 : range.upperBound
        }
        return found
    }

    /// Whether the pattern matches anywhere in `text`.
    func isFound(in text: [Unicode.Scalar]) -> Bool { firstMatch(in: text, from: 0) != nil }

    /// The leftmost-first match starting at or after `from` (Pike VM: threads in priority order, one per instruction).
    func firstMatch(in text: [Unicode.Scalar], from: Int) -> Range<Int>? {
        var current: [(pc: Int, start: Int)] = []
        var next: [(pc: Int, start: Int)] = []
        var seen = [Int](repeating: -1, count: program.count)
        var best: Range<Int>? = nil
        var position = from
        func add(_ list: inout [(pc: Int, start: Int)], _ pc: Int, _ start: Int, _ at: Int) {
            if seen[pc] == at { return }
            seen[pc] = at
            switch program[pc] {
            case .jump(let target): add(&list, target, start, at)
            case .split(let a, let b): add(&list, a, start, at); add(&list, b, start, at)
            case .lineStart: if at == 0 || text[at - 1] == "\n" { add(&list, pc + 1, start, at) }
            case .lineEnd: if at == text.count || text[at] == "\n" || text[at] == "\r" { add(&list, pc + 1, start, at) }
            case .wordBoundary(let wanted):
                let before = at > 0 && Self.isWord(text[at - 1]), after = at < text.count && Self.isWord(text[at])
                if (before != after) == wanted { add(&list, pc + 1, start, at) }
            default: list.append((pc, start))
            }
        }
        while true {
            if best == nil { add(&current, 0, position, position) }
            if current.isEmpty && best != nil { break }      // no thread can extend the match found
            for (pc, start) in current {
                switch program[pc] {
                case .match:
                    best = start..<position
                    break
                case .scalar(let s):
                    if position < text.count && text[position] == s { add(&next, pc + 1, start, position + 1) }
                    continue
                case .any:
                    if position < text.count && text[position] != "\n" { add(&next, pc + 1, start, position + 1) }
                    continue
                case .set(let set, let negated):
                    if position < text.count && set.contains(text[position]) != negated { add(&next, pc + 1, start, position + 1) }
                    continue
                default:
                    continue
                }
                break   // a match cuts off lower-priority threads
            }
            if position >= text.count { break }
            swap(&current, &next)
            next.removeAll(keepingCapacity: true)
            position += 1
        }
        return best
    }
}

/// A pattern that could not be compiled: where and why.
public struct PatternError: Error, Sendable, CustomStringConvertible {
    /// Offset in code points into the pattern.
    public var offset: Int
    public var reason: String
    public var description: String { "at offset \(offset): \(reason)" }
}
