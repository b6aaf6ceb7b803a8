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
        try exclusively(dataDirectory) {
            var entries = load(dataDirectory: dataDirectory)
            entries[name] = entry
            try save(entries, dataDirectory: dataDirectory)
        }
    }

    /// Removes `name`; returns false when it was not quarantined.
    public static func release(_ name: String, dataDirectory: URL) throws -> Bool {
        try exclusively(dataDirectory) {
            var entries = load(dataDirectory: dataDirectory)
            guard entries.removeValue(forKey: name) != nil else { return false }
            try save(entries, dataDirectory: dataDirectory)
            return true
        }
    }

    /// Runs a read-modify-write of the file holding `<data>/quarantine.lock` exclusively: the
    /// master quarantines while a worker (`POST /admin/quarantine/:name/release`) or the CLI
    /// releases, and neither may write over the other's change.
    private static func exclusively<T>(_ dataDirectory: URL, _ body: () throws -> T) throws -> T {
        let fd = open(dataDirectory.appendingPathComponent("quarantine.lock").path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return try body() }  // an unwritable directory fails in save() with its own error
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 && errno == EINTR {}
        defer { flock(fd, LOCK_UN) }
        return try body()
    }

    static func timestamp(_ date: Date = Date()) -> String {
        ISO8601DateFormatter().string(from: date)
    }
}
