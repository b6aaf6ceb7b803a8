import Foundation

/// The small safe expression language of `filter` and `calculate`: numbers, strings, `true`/`false`/`null`,
/// `datum.field` and `datum["field"]`, arithmetic (`+ - * / %`), comparison (`== != === !== < <= > >=`),
/// logic (`&& || !`), the conditional `a ? b : c`, and a fixed list of pure functions (``Expression/functions``).
/// Nothing else parses: no assignment, no member access other than on `datum`, no calls outside the list,
/// no loops, so an expression cannot reach anything but the row it is given and always terminates.
public indirect enum Expression: Sendable {
    case constant(DataValue)
    case field(String)
    case unary(String, Expression)
    case binary(String, Expression, Expression)
    case conditional(Expression, Expression, Expression)
    case call(String, [Expression])

    /// The functions an expression may call, with their argument counts.
    public static let functions: [String: ClosedRange<Int>] = [
        "abs": 1...1, "sqrt": 1...1, "log": 1...1, "exp": 1...1, "floor": 1...1, "ceil": 1...1, "round": 1...1,
        "pow": 2...2, "min": 1...8, "max": 1...8, "isValid": 1...1, "isNaN": 1...1,
        "year": 1...1, "month": 1...1, "date": 1...1, "hours": 1...1, "toNumber": 1...1, "toString": 1...1,
        "length": 1...1, "upper": 1...1, "lower": 1...1,
    ]

    /// Parses `source`; errors carry `path` and the character offset.
    public static func parse(_ source: String, path: String) throws(ChartError) -> Expression {
        guard source.utf8.count <= 2000 else { throw ChartError(.tooLarge, path: path, "an expression longer than 2000 characters") }
        var parser = ExpressionParser(source: source, path: path)
        return try parser.parseAll()
    }

    /// The fields the expression reads.
    public var fields: Set<String> {
        switch self {
        case .constant: []
        case .field(let name): [name]
        case .unary(_, let operand): operand.fields
        case .binary(_, let a, let b): a.fields.union(b.fields)
        case .conditional(let a, let b, let c): a.fields.union(b.fields).union(c.fields)
        case .call(_, let args): args.reduce(into: Set<String>()) { $0.formUnion($1.fields) }
        }
    }

    /// Evaluates against one row; `lookup` reads a field.
    public func evaluate(_ lookup: (String) -> DataValue) -> DataValue {
        switch self {
        case .constant(let value): return value
        case .field(let name): return lookup(name)
        case .unary(let op, let operand):
            let value = operand.evaluate(lookup)
            return op == "!" ? .bool(!value.truthy) : .number(-(value.number ?? .nan))
        case .binary(let op, let lhs, let rhs):
            if op == "&&" { let a = lhs.evaluate(lookup); return a.truthy ? rhs.evaluate(lookup) : a }
            if op == "||" { let a = lhs.evaluate(lookup); return a.truthy ? a : rhs.evaluate(lookup) }
            return Self.binary(op, lhs.evaluate(lookup), rhs.evaluate(lookup))
        case .conditional(let test, let yes, let no):
            return test.evaluate(lookup).truthy ? yes.evaluate(lookup) : no.evaluate(lookup)
        case .call(let name, let args):
            return Self.call(name, args.map { $0.evaluate(lookup) })
        }
    }

    private static func binary(_ op: String, _ a: DataValue, _ b: DataValue) -> DataValue {
        switch op {
        case "+":
            if case .string(let s) = a { return .string(s + b.text) }
            if case .string(let s) = b { return .string(a.text + s) }
            return .number((a.number ?? .nan) + (b.number ?? .nan))
        case "-": return .number((a.number ?? .nan) - (b.number ?? .nan))
        case "*": return .number((a.number ?? .nan) * (b.number ?? .nan))
        case "/": return .number((a.number ?? .nan) / (b.number ?? .nan))
        case "%": return .number((a.number ?? .nan).truncatingRemainder(dividingBy: b.number ?? .nan))
        case "==", "===": return .bool(a == b)
        case "!=", "!==": return .bool(a != b)
        default:
            let order: Bool
            if case .string(let x) = a, case .string(let y) = b {
                order = op == "<" ? x < y : op == "<=" ? x <= y : op == ">" ? x > y : x >= y
            } else {
                let x = a.number ?? .nan, y = b.number ?? .nan
                order = op == "<" ? x < y : op == "<=" ? x <= y : op == ">" ? x > y : x >= y
            }
            return .bool(order)
        }
    }

    private static func call(_ name: String, _ args: [DataValue]) -> DataValue {
        let x = args.first?.number ?? .nan
        switch name {
        case "abs": return .number(abs(x))
        case "sqrt": return .number(x.squareRoot())
        case "log": return .number(Foundation.log(x))
        case "exp": return .number(Foundation.exp(x))
        case "floor": return .number(x.rounded(.down))
        case "ceil": return .number(x.rounded(.up))
        case "round": return .number(x.rounded())
        case "pow": return .number(Foundation.pow(x, args[1].number ?? .nan))
        case "min": return .number(args.compactMap(\.number).min() ?? .nan)
        case "max": return .number(args.compactMap(\.number).max() ?? .nan)
        case "isValid": return .bool(args[0] != .null)
        case "isNaN": return .bool(x.isNaN)
        case "year", "month", "date", "hours":
            guard let ms = args[0].timestamp else { return .null }
            let civil = CivilTime(milliseconds: ms)
            switch name {
            case "year": return .number(Double(civil.year))
            case "month": return .number(Double(civil.month - 1))
            case "date": return .number(Double(civil.day))
            default: return .number(Double(civil.hour))
            }
        case "toNumber": return .number(x)
        case "toString": return .string(args[0].text)
        case "length": return .number(Double(args[0].text.count))
        case "upper": return .string(args[0].text.uppercased())
        case "lower": return .string(args[0].text.lowercased())
        default: return .null
        }
    }
}
