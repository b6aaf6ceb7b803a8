/// A precedence-climbing parser for ``Expression``.
struct ExpressionParser {
    private let chars: [Character]
    private let path: String
    private var index = 0

    init(source: String, path: String) {
        chars = Array(source)
        self.path = path
    }

    private func fail(_ message: String) -> ChartError {
        ChartError(.invalid, path: path, "expression error at character \(index): \(message)")
    }

    mutating func parseAll() throws(ChartError) -> Expression {
        let result = try conditional(depth: 0)
        skipSpace()
        guard index == chars.count else { throw fail("unexpected '\(chars[index])'") }
        return result
    }

    private mutating func skipSpace() {
        while index < chars.count, chars[index].isWhitespace { index += 1 }
    }

    private mutating func take(_ token: String) -> Bool {
        skipSpace()
        let end = index + token.count
        guard end <= chars.count, String(chars[index..<end]) == token else { return false }
        index = end
        return true
    }

    private mutating func conditional(depth: Int) throws(ChartError) -> Expression {
        guard depth < 40 else { throw fail("nested too deeply") }
        let test = try binary(level: 0, depth: depth)
        guard take("?") else { return test }
        let yes = try conditional(depth: depth + 1)
        guard take(":") else { throw fail("expected ':' of a conditional") }
        return .conditional(test, yes, try conditional(depth: depth + 1))
    }

    private static let levels: [[String]] = [["||"], ["&&"], ["===", "!==", "==", "!="], ["<=", ">=", "<", ">"], ["+", "-"], ["*", "/", "%"]]

    private mutating func binary(level: Int, depth: Int) throws(ChartError) -> Expression {
        guard level < Self.levels.count else { return try unary(depth: depth) }
        var lhs = try binary(level: level + 1, depth: depth)
        outer: while true {
            for op in Self.levels[level] where take(op) {
                if op == "=" { throw fail("assignment is not allowed") }
                lhs = .binary(op, lhs, try binary(level: level + 1, depth: depth))
                continue outer
            }
            return lhs
        }
    }

    private mutating func unary(depth: Int) throws(ChartError) -> Expression {
        guard depth < 40 else { throw fail("nested too deeply") }
        if take("!") { return .unary("!", try unary(depth: depth + 1)) }
        if take("-") { return .unary("-", try unary(depth: depth + 1)) }
        return try primary(depth: depth)
    }

    private mutating func primary(depth: Int) throws(ChartError) -> Expression {
        skipSpace()
        guard index < chars.count else { throw fail("unexpected end of expression") }
        let char = chars[index]
        if take("(") {
            let inner = try conditional(depth: depth + 1)
            guard take(")") else { throw fail("expected ')'") }
            return inner
        }
        if char == "\"" || char == "'" { return .constant(.string(try stringLiteral())) }
        if char.isNumber || char == "." { return .constant(.number(try numberLiteral())) }
        guard char.isLetter || char == "_" || char == "$" else { throw fail("unexpected '\(char)'") }
        let name = identifier()
        switch name {
        case "true": return .constant(.bool(true))
        case "false": return .constant(.bool(false))
        case "null": return .constant(.null)
        case "datum":
            if take(".") {
                skipSpace()
                let field = identifier()
                guard !field.isEmpty else { throw fail("expected a field name after 'datum.'") }
                return .field(field)
            }
            if take("[") {
                skipSpace()
                guard index < chars.count, chars[index] == "\"" || chars[index] == "'" else { throw fail("datum[...] takes a string literal") }
                let field = try stringLiteral()
                guard take("]") else { throw fail("expected ']'") }
                return .field(field)
            }
            throw fail("'datum' must be followed by .field or [\"field\"]")
        default:
            guard take("(") else { throw fail("unknown name '\(name)'; only datum.field, literals and the functions \(Expression.functions.keys.sorted().joined(separator: ", ")) are allowed") }
            guard let arity = Expression.functions[name] else {
                throw fail("calling '\(name)' is not allowed; allowed functions: \(Expression.functions.keys.sorted().joined(separator: ", "))")
            }
            var args: [Expression] = []
            if !take(")") {
                repeat { args.append(try conditional(depth: depth + 1)) } while take(",")
                guard take(")") else { throw fail("expected ')' after the arguments of \(name)") }
            }
            guard arity.contains(args.count) else { throw fail("\(name) takes \(arity.lowerBound)...\(arity.upperBound) arguments, not \(args.count)") }
            return .call(name, args)
        }
    }

    private mutating func identifier() -> String {
        let start = index
        while index < chars.count, chars[index].isLetter || chars[index].isNumber || chars[index] == "_" || chars[index] == "$" { index += 1 }
        return String(chars[start..<index])
    }

    private mutating func stringLiteral() throws(ChartError) -> String {
        let quote = chars[index]
        index += 1
        var out = ""
        while index < chars.count, chars[index] != quote {
            if chars[index] == "\\", index + 1 < chars.count { index += 1 }
            out.append(chars[index])
            index += 1
        }
        guard index < chars.count else { throw fail("an unterminated string") }
        index += 1
        return out
    }

    private mutating func numberLiteral() throws(ChartError) -> Double {
        let start = index
        while index < chars.count, chars[index].isNumber || chars[index] == "." || chars[index] == "e" || chars[index] == "E" { index += 1 }
        guard let value = Double(String(chars[start..<index])) else { throw fail("a malformed number") }
        return value
    }
}
