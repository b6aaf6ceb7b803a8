/// Fills `{slot}`, `{slot.N}` and `{reply.field}` references in action requests and answers.
///
/// `{slot}` is the slot's first value in spoken order, `{slot.N}` its N-th (0-based); `{reply.field}` is a
/// top-level string or number field of the service's JSON reply. Unknown references are left empty.
public struct SlotFiller: Sendable {
    public var slots: [FilledSlot]
    public var reply: [String: JSONValue]

    public init(slots: [FilledSlot], reply: [String: JSONValue] = [:]) {
        self.slots = slots
        self.reply = reply
    }

    /// `text` with every `{...}` reference replaced.
    public func fill(_ text: String) -> String {
        var out = ""
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            out += rest[..<open]
            out += value(of: String(rest[rest.index(after: open)..<close]).trimmingSpaces)
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }

    private func value(of reference: String) -> String {
        let pieces = reference.split(separator: ".", maxSplits: 1).map(String.init)
        guard let name = pieces.first else { return "" }
        if name == "reply", pieces.count == 2 {
            switch reply[pieces[1]] {
            case .string(let s): return s
            case .number(let n): return n == n.rounded() && abs(n) < 1e15 ? String(Int(n)) : String(n)
            case .bool(let b): return String(b)
            default: return ""
            }
        }
        let index = pieces.count == 2 ? Int(pieces[1]) ?? -1 : 0
        let values = slots.filter { $0.name == name }
        return values.indices.contains(index) ? values[index].value : ""
    }
}
