import Foundation

/// A subset of d3-format patterns: `[,][.precision][~][type]` with type `f`, `d`, `%`, `s` or `e`
/// (`,d`, `.2f`, `.1%`, `~s`, `,.2f`).
public struct NumberFormat: Sendable {
    public var grouping = false
    public var precision: Int?
    public var trim = false
    public var type: Character = "f"

    /// Parses `pattern`; unsupported patterns are refused at `path`.
    public init(pattern: String, path: String) throws(ChartError) {
        var chars = Substring(pattern)
        if chars.first == "," { grouping = true; chars = chars.dropFirst() }
        if chars.first == "." {
            chars = chars.dropFirst()
            let digits = chars.prefix { $0.isNumber }
            guard let value = Int(digits), value <= 15 else { throw ChartError(.unsupported, path: path, "format '\(pattern)': bad precision") }
            precision = value
            chars = chars.dropFirst(digits.count)
        }
        if chars.first == "~" { trim = true; chars = chars.dropFirst() }
        if let last = chars.first {
            guard chars.count == 1, "fd%se".contains(last) else {
                throw ChartError(.unsupported, path: path, "format '\(pattern)' is not supported; use [,][.precision][~](f|d|%|s|e)")
            }
            type = last
        }
    }

    /// A format with `decimals` digits after the point and thousands grouping (axis defaults).
    public init(decimals: Int) {
        grouping = true
        precision = decimals
    }

    /// Formats `value`.
    public func format(_ raw: Double) -> String {
        let value = raw == 0 ? 0 : raw   // no "−0"
        guard value.isFinite else { return value.isNaN ? "NaN" : (value > 0 ? "∞" : "−∞") }
        switch type {
        case "d": return group(String(format: "%.0f", value.rounded()))
        case "%": return finish(String(format: "%.\(precision ?? 0)f", value * 100)) + "%"
        case "e": return String(format: "%.\(precision ?? 2)e", value)
        case "s": return si(value)
        default: return finish(String(format: "%.\(precision ?? 6)f", value))
        }
    }

    private func finish(_ text: String) -> String {
        var text = text
        if trim || precision == nil, text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return group(text)
    }

    private func group(_ text: String) -> String {
        guard grouping else { return text.replacingOccurrences(of: "-", with: "−") }
        let negative = text.hasPrefix("-")
        let body = negative ? String(text.dropFirst()) : text
        let parts = body.split(separator: ".", maxSplits: 1)
        var integer = Array(parts[0])
        var out = ""
        while integer.count > 3 {
            out = "," + String(integer.suffix(3)) + out
            integer.removeLast(3)
        }
        out = String(integer) + out
        if parts.count > 1 { out += "." + parts[1] }
        return (negative ? "−" : "") + out
    }

    private func si(_ value: Double) -> String {
        let prefixes: [(Double, String)] = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1, ""), (1e-3, "m"), (1e-6, "µ")]
        let magnitude = abs(value)
        let (scale, suffix) = magnitude == 0 ? (1, "") : prefixes.first { magnitude >= $0.0 } ?? (1e-6, "µ")
        var inner = NumberFormat(decimals: precision ?? 3)
        inner.grouping = false
        inner.trim = true
        return inner.format(value / scale) + suffix
    }

    /// The shortest plain rendering of a number (data labels, legend entries).
    public static func plain(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}
