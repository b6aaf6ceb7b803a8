import Foundation

/// `<data>/quarantine.json`: plugins blamed for too many worker crashes, which new workers do
/// not start until `plexus plugin release NAME` removes them.
public enum Quarantine {
    public struct Crash: Codable, Sendable {
        public var at: String
        public var what: String
        public var signal: String
    }

    public struct Entry: Codable, Sendable {
        public var reason: String
        public var since: String
        public var crashes: [Crash]
    }

    public static func file(in dataDirectory: URL) -> URL { dataDirectory.appendingPathComponent("quarantine.json") }

    /// The quarantined plugins by name; empty when there is no (readable) file.
    public static func load(dataDirectory: URL) -> [String: Entry] {
        guard let data = try? Data(contentsOf: file(in: dataDirectory)) else { return [:] }
        return (try? JSONDecoder().decode([String: Entry].self, from: data)) ?? [:]
    }

    public static func save(_ entries: [String: Entry], dataDirectory: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(entries).write(to: file(in: dataDirectory), options: .atomic)
    }

    /// Adds (or replaces) `name`'s entry, keeping the others as they are on disk now.
    static func add(_ name: String, _ entry: Entry, dataDirectory: URL) throws {
        var entries = load(dataDirectory: dataDirectory)
        entries[name] = entry
        try save(entries, dataDirectory: dataDirectory)
    }

    /// Removes `name`; returns false when it was not quarantined.
    public static func release(_ name: String, dataDirectory: URL) throws -> Bool {
        var entries = load(dataDirectory: dataDirectory)
        guard entries.removeValue(forKey: name) != nil else { return false }
        try save(entries, dataDirectory: dataDirectory)
        return true
    }

    static func timestamp(_ date: Date = Date()) -> String {
        ISO8601DateFormatter().string(from: date)
    }
}
