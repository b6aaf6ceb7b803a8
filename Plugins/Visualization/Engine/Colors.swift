/// Colours: the default categorical palette (Okabe and Ito's, distinguishable with the common colour
/// vision deficiencies), a sequential ramp (cividis) and named-colour validation.
public enum Colors {
    /// Okabe–Ito, starting with blue and orange.
    public static let categorical = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]

    /// Cividis stops, dark to light.
    static let sequential: [(Double, Double, Double)] = [(0, 34, 78), (64, 77, 108), (124, 123, 120), (188, 175, 111), (253, 231, 55)]

    /// The sequential colour at `t` in 0...1.
    public static func ramp(_ t: Double) -> String {
        let clamped = t.isNaN ? 0 : min(1, max(0, t))
        let scaled = clamped * Double(sequential.count - 1)
        let i = min(sequential.count - 2, Int(scaled))
        let f = scaled - Double(i)
        let (a, b) = (sequential[i], sequential[i + 1])
        return hex(a.0 + (b.0 - a.0) * f, a.1 + (b.1 - a.1) * f, a.2 + (b.2 - a.2) * f)
    }

    static func hex(_ r: Double, _ g: Double, _ b: Double) -> String {
        func byte(_ v: Double) -> String {
            let s = String(Int(v.rounded()), radix: 16, uppercase: true)
            return s.count == 1 ? "0" + s : s
        }
        return "#" + byte(r) + byte(g) + byte(b)
    }

    static let named: [String: String] = [
        "black": "#000000", "white": "#FFFFFF", "red": "#D55E00", "orange": "#E69F00", "green": "#009E73", "blue": "#0072B2",
        "steelblue": "#4682B4", "gray": "#888888", "grey": "#888888", "purple": "#CC79A7", "yellow": "#F0E442",
    ]

    /// `#rrggbb` for a `#rgb`/`#rrggbb` literal or a known name.
    static func validated(_ text: String, path: String) throws(ChartError) -> String {
        if let known = named[text.lowercased()] { return known }
        let digits = Array(text.dropFirst())
        guard text.hasPrefix("#"), digits.count == 6 || digits.count == 3, digits.allSatisfy(\.isHexDigit) else {
            throw ChartError(.invalid, path: path, "'\(text)' is not a colour (#rrggbb, #rgb or one of \(named.keys.sorted().joined(separator: ", ")))")
        }
        return digits.count == 6 ? text.uppercased() : "#" + digits.map { "\($0)\($0)" }.joined().uppercased()
    }

    /// Red, green, blue in 0...1 of a `#rrggbb` colour.
    public static func components(_ hex: String) -> (Double, Double, Double) {
        let value = UInt32(hex.dropFirst(), radix: 16) ?? 0
        return (Double(value >> 16 & 0xFF) / 255, Double(value >> 8 & 0xFF) / 255, Double(value & 0xFF) / 255)
    }
}
