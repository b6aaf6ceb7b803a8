/// The bus's topic patterns: dot-separated segments, `+` for exactly one segment, `#` (last)
/// for the rest (zero or more segments).
public enum TopicPattern {
    /// Whether `topic` matches `pattern`.
    public static func matches(_ pattern: String, _ topic: String) -> Bool {
        matches(pattern.split(separator: ".", omittingEmptySubsequences: false)[...], topic.split(separator: ".", omittingEmptySubsequences: false)[...])
    }

    /// Whether the split `topic` matches the split `pattern`.
    public static func matches(_ pattern: [Substring], _ topic: [Substring]) -> Bool { matches(pattern[...], topic[...]) }

    private static func matches(_ pattern: ArraySlice<Substring>, _ topic: ArraySlice<Substring>) -> Bool {
        guard let head = pattern.first else { return topic.isEmpty }
        if head == "#" { return true }
        guard let first = topic.first else { return false }
        guard head == "+" || head == first else { return false }
        return matches(pattern.dropFirst(), topic.dropFirst())
    }

    /// Whether some topic matches both patterns (a `+` or `#` in either stands for any segment):
    /// used to refuse a rule whose output could feed its own input.
    public static func overlap(_ a: String, _ b: String) -> Bool {
        overlap(a.split(separator: ".", omittingEmptySubsequences: false)[...], b.split(separator: ".", omittingEmptySubsequences: false)[...])
    }

    private static func overlap(_ a: ArraySlice<Substring>, _ b: ArraySlice<Substring>) -> Bool {
        if a.first == "#" || b.first == "#" { return true }
        guard let x = a.first, let y = b.first else { return a.isEmpty && b.isEmpty }
        guard x == "+" || y == "+" || x == y else { return false }
        return overlap(a.dropFirst(), b.dropFirst())
    }
}
