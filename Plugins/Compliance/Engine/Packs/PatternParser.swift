/// The syntax tree of a ``Pattern``.
indirect enum PatternNode {
    case empty
    case scalar(Unicode.Scalar)
    case any
    case set(Pattern.CharacterSet, negated: Bool)
    case lineStart, lineEnd, wordBoundary(Bool)
    case concat([PatternNode])
    case alternate([PatternNode])
    case repeatRange(PatternNode, min: Int, max: Int?, greedy: Bool)
}

/// Recursive-descent parser of the pattern syntax; literals are lower-cased (matching ignores case).
struct PatternParser {
    let s: [Unicode.Scalar]
    var i = 0
    var depth = 0

    init(_ scalars: [Unicode.Scalar]) { s = scalars }

    func fail(_ reason: String) -> PatternError { PatternError(offset: i, reason: reason) }

    mutating func parseAll() throws -> PatternNode {
        guard !s.isEmpty else { throw fail("the pattern is empty") }
        let node = try parseAlternation()
        guard i == s.count else { throw fail("unbalanced ')'") }
        return node
    }

    mutating func parseAlternation() throws -> PatternNode {
        var branches = [try parseConcat()]
        while i < s.count && s[i] == "|" { i += 1; branches.append(try parseConcat()) }
        return branches.count == 1 ? branches[0] : .alternate(branches)
    }

    mutating func parseConcat() throws -> PatternNode {
        var items: [PatternNode] = []
        while i < s.count && s[i] != "|" && s[i] != ")" {
            var atom = try parseAtom()
            atom = try parseQuantifier(atom)
            items.append(atom)
        }
        return items.isEmpty ? .empty : (items.count == 1 ? items[0] : .concat(items))
    }

    mutating func parseQuantifier(_ atom: PatternNode) throws -> PatternNode {
        guard i < s.count else { return atom }
        var minimum = 0, maximum: Int? = nil
        switch s[i] {
        case "*": i += 1
        case "+": minimum = 1; i += 1
        case "?": maximum = 1; i += 1
        case "{":
            let open = i
            i += 1
            guard let low = readNumber() else { i = open; return atom }
            minimum = low
            maximum = low
            if i < s.count && s[i] == "," { i += 1; maximum = readNumber() }
            guard i < s.count && s[i] == "}" else { throw fail("a counted repetition '{m,n}' is not closed") }
            i += 1
            if minimum > 100 || (maximum ?? 0) > 100 { throw fail("repetition bounds above 100 are refused") }
            if let maximum, maximum < minimum { throw fail("repetition {\(minimum),\(maximum)}: the maximum is below the minimum") }
        default: return atom
        }
        var greedy = true
        if i < s.count && s[i] == "?" { greedy = false; i += 1 }
        if i < s.count && (s[i] == "*" || s[i] == "+" || s[i] == "?" || s[i] == "{") { throw fail("a quantifier follows a quantifier") }
        if case .empty = atom { throw fail("a quantifier has nothing to repeat") }
        return .repeatRange(atom, min: minimum, max: maximum, greedy: greedy)
    }

    mutating func readNumber() -> Int? {
        let start = i
        var value = 0
        while i < s.count, let d = Int(String(s[i])), s[i].isASCII { value = value * 10 + d; i += 1; if value > 10_000 { break } }
        return i > start ? value : nil
    }

    mutating func parseAtom() throws -> PatternNode {
        let c = s[i]
        switch c {
        case "(":
            i += 1
            depth += 1
            guard depth <= 32 else { throw fail("groups nested deeper than 32") }
            if i < s.count && s[i] == "?" {
                guard i + 1 < s.count && s[i + 1] == ":" else {
                    throw fail("lookaround and other '(?' groups are refused: they cannot run in linear time")
                }
                i += 2
            }
            let inner = try parseAlternation()
            guard i < s.count && s[i] == ")" else { throw fail("a group is not closed") }
            i += 1
            depth -= 1
            return inner
        case "*", "+", "?", "{": throw fail("'\(c)' has nothing to repeat")
        case ".": i += 1; return .any
        case "^": i += 1; return .lineStart
        case "$": i += 1; return .lineEnd
        case "[": return try parseClass()
        case "\\": return try parseEscape(inClass: false).node
        default: i += 1; return .scalar(Self.lower(c))
        }
    }

    /// The lower-case form of a scalar (its first scalar when lower-casing expands).
    static func lower(_ c: Unicode.Scalar) -> Unicode.Scalar {
        c.properties.lowercaseMapping.unicodeScalars.first ?? c
    }

    mutating func parseEscape(inClass: Bool) throws -> (node: PatternNode, scalar: Unicode.Scalar?) {
        i += 1
        guard i < s.count else { throw fail("the pattern ends with a lone '\\'") }
        let c = s[i]
        i += 1
        var set = Pattern.CharacterSet()
        switch c {
        case "d": set.digit = true
        case "w": set.word = true
        case "s": set.space = true
        case "D": set.notDigit = true
        case "W": set.notWord = true
        case "S": set.notSpace = true
        case "b" where !inClass: return (.wordBoundary(true), nil)
        case "B" where !inClass: return (.wordBoundary(false), nil)
        case "n": return (.scalar("\n"), "\n")
        case "t": return (.scalar("\t"), "\t")
        case "r": return (.scalar("\r"), "\r")
        default:
            if c.properties.numericType != nil { throw fail("backreferences are refused: they cannot run in linear time") }
            return (.scalar(Self.lower(c)), Self.lower(c))
        }
        return (.set(set, negated: false), nil)
    }

    mutating func parseClass() throws -> PatternNode {
        i += 1
        var set = Pattern.CharacterSet()
        var negated = false
        if i < s.count && s[i] == "^" { negated = true; i += 1 }
        var first = true
        while i < s.count && (s[i] != "]" || first) {
            first = false
            var low: Unicode.Scalar
            if s[i] == "\\" {
                let (node, scalar) = try parseEscape(inClass: true)
                guard let scalar else {
                    if case .set(let inner, _) = node { set.digit = set.digit || inner.digit; set.word = set.word || inner.word; set.space = set.space || inner.space }
                    continue
                }
                low = scalar
            } else {
                low = Self.lower(s[i])
                i += 1
            }
            if i + 1 < s.count && s[i] == "-" && s[i + 1] != "]" {
                i += 1
                let high = Self.lower(s[i])
                i += 1
                guard high.value >= low.value else { throw fail("class range \(low)-\(high) is backwards") }
                set.ranges.append(low.value...high.value)
            } else {
                set.ranges.append(low.value...low.value)
            }
        }
        guard i < s.count else { throw fail("a character class '[' is not closed") }
        i += 1
        return .set(set, negated: negated)
    }
}

/// Emits NFA instructions for a ``PatternNode``.
enum PatternCompiler {
    static func emit(_ node: PatternNode, into p: inout [Pattern.Instruction]) throws {
        guard p.count <= Pattern.maxInstructions else {
            throw PatternError(offset: 0, reason: "the pattern compiles to more than \(Pattern.maxInstructions) instructions")
        }
        switch node {
        case .empty: break
        case .scalar(let c): p.append(.scalar(c))
        case .any: p.append(.any)
        case .set(let set, let negated): p.append(.set(set, negated: negated))
        case .lineStart: p.append(.lineStart)
        case .lineEnd: p.append(.lineEnd)
        case .wordBoundary(let wanted): p.append(.wordBoundary(wanted))
        case .concat(let items): for item in items { try emit(item, into: &p) }
        case .alternate(let branches):
            var jumps: [Int] = []
            for (index, branch) in branches.enumerated() {
                if index < branches.count - 1 {
                    let split = p.count
                    p.append(.split(0, 0))
                    try emit(branch, into: &p)
                    jumps.append(p.count)
                    p.append(.jump(0))
                    p[split] = .split(split + 1, p.count)
                } else {
                    try emit(branch, into: &p)
                }
            }
            for j in jumps { p[j] = .jump(p.count) }
        case .repeatRange(let inner, let minimum, let maximum, let greedy):
            for _ in 0..<minimum { try emit(inner, into: &p) }
            if let maximum {
                var exits: [Int] = []
                for _ in minimum..<maximum {
                    exits.append(p.count)
                    p.append(.split(0, 0))
                    try emit(inner, into: &p)
                }
                for e in exits { p[e] = greedy ? .split(e + 1, p.count) : .split(p.count, e + 1) }
            } else {
                let split = p.count
                p.append(.split(0, 0))
                try emit(inner, into: &p)
                p.append(.jump(split))
                p[split] = greedy ? .split(split + 1, p.count) : .split(p.count, split + 1)
            }
        }
    }
}
