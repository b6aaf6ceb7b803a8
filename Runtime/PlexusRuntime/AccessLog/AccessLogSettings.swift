import Foundation

/// `[access_log]`: where the access log goes, in which form, and how it is buffered.
///
/// ```toml
/// [access_log]
/// destination = "stderr"   # or "file" (with path) or "off"
/// path = "logs/access.log" # relative to the config file; reopened on SIGUSR1
/// format = "kv"            # or "json" (one object per line) or "combined" (nginx/Apache)
/// flush_bytes = 65536      # hand a batch to the writer thread at this size...
/// flush_ms = 1000          # ...or after this long
/// buffer_bytes = 4194304   # at most this much waits for a slow sink; beyond it records are dropped and counted
/// ```
public struct AccessLogSettings: Sendable, Equatable {
    /// Where records go.
    public enum Destination: Sendable, Equatable {
        /// The process's standard error (the default).
        case standardError
        /// A file, opened for appending and reopened on SIGUSR1 (logrotate's `postrotate`).
        case file(String)
        /// No access log at all.
        case off
    }

    /// How one record is written.
    public enum Format: String, Sendable, CaseIterable {
        /// `time=… method=GET target=/x status=200 …`, values quoted when they need it.
        case kv
        /// One JSON object per line.
        case json
        /// The combined log format of nginx and Apache (`$remote_addr - $remote_user [$time_local] "$request" …`).
        case combined
    }

    public var destination = Destination.standardError
    public var format = Format.kv
    /// A batch is handed to the writer thread once it holds this many bytes.
    public var flushBytes = 64 * 1024
    /// A batch that has not filled is handed over after this long.
    public var flushMilliseconds: UInt64 = 1_000
    /// Bytes handed over and not yet written, at most; a batch that would exceed it is dropped
    /// (and its records counted in `plexus_access_log_dropped_total`) instead of blocking the loop.
    public var bufferBytes = 4 * 1024 * 1024
    /// The largest ``bufferBytes`` accepted (a ring is mapped at this size in every worker and its master).
    public static let maxBufferBytes = 1 << 30

    public init() {}

    /// Whether records are written at all.
    public var isEnabled: Bool { destination != .off }

    /// Reads the `access_log.*` keys of a flattened config file (`base`: the config file's directory).
    init(values: [String: String], file: String, base: URL, enabled: Bool) throws {
        func number(_ key: String, minimum: UInt64) throws -> UInt64? {
            guard let text = values["access_log.\(key)"] else { return nil }
            guard let value = UInt64(text), value >= minimum else {
                throw RuntimeError.config("\(file): access_log.\(key) must be an integer of at least \(minimum), found '\(text)'")
            }
            return value
        }
        let known: Set<String> = ["destination", "path", "format", "flush_bytes", "flush_ms", "buffer_bytes"].reduce(into: []) { $0.insert("access_log.\($1)") }
        let unknown = Set(values.keys).subtracting(known).sorted()
        guard unknown.isEmpty else {
            throw RuntimeError.config("\(file): unknown setting(s) \(unknown.joined(separator: ", ")); [access_log] takes \(known.sorted().joined(separator: ", "))")
        }
        let path = values["access_log.path"]
        switch values["access_log.destination"] {
        case nil:
            destination = path.map { .file(URL(fileURLWithPath: $0, relativeTo: base).standardizedFileURL.path) } ?? .standardError
        case "stderr":
            destination = .standardError
        case "off":
            destination = .off
        case "file":
            guard let path, !path.isEmpty else {
                throw RuntimeError.config("\(file): access_log.destination = \"file\" needs access_log.path (e.g. path = \"logs/access.log\")")
            }
            destination = .file(URL(fileURLWithPath: path, relativeTo: base).standardizedFileURL.path)
        case let other?:
            throw RuntimeError.config("\(file): access_log.destination '\(other)' is not one of stderr, file, off")
        }
        if let text = values["access_log.format"] {
            guard let parsed = Format(rawValue: text) else {
                throw RuntimeError.config("\(file): access_log.format '\(text)' is not one of \(Format.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            format = parsed
        }
        flushBytes = try number("flush_bytes", minimum: 1).map(Int.init) ?? flushBytes
        flushMilliseconds = try number("flush_ms", minimum: 1) ?? flushMilliseconds
        bufferBytes = try number("buffer_bytes", minimum: 1024).map(Int.init) ?? bufferBytes
        guard bufferBytes <= Self.maxBufferBytes else {
            throw RuntimeError.config("\(file): access_log.buffer_bytes must be at most \(Self.maxBufferBytes) (1 GiB), found \(bufferBytes)")
        }
        if !enabled { destination = .off }
    }
}
