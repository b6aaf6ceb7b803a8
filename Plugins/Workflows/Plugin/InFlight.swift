/// Action keys under way, grouped by instance (`instance|key`), so a finished instance drops its own at once.
struct InFlight {
    private var keys: [Substring: Set<Substring>] = [:]

    private static func split(_ key: String) -> (Substring, Substring) {
        let bar = key.firstIndex(of: "|") ?? key.endIndex
        return (key[..<bar], bar < key.endIndex ? key[key.index(after: bar)...] : "")
    }

    func contains(_ key: String) -> Bool {
        let (instance, action) = Self.split(key)
        return keys[instance]?.contains(action) ?? false
    }

    mutating func insert(_ key: String) {
        let (instance, action) = Self.split(key)
        keys[instance, default: []].insert(action)
    }

    mutating func remove(_ key: String) {
        let (instance, action) = Self.split(key)
        keys[instance]?.remove(action)
    }

    mutating func removeAll(of instance: String) { keys[Substring(instance)] = nil }
}
