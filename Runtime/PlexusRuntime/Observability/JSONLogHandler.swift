import Foundation
import Logging

/// How log lines are written (`[log] format`).
public enum LogFormat: String, Sendable, CaseIterable {
    /// swift-log's `StreamLogHandler` lines: `<timestamp> <level> <label> : <metadata> <message>`.
    case text
    /// One JSON object per line, for log collectors (see ``JSONLogHandler``).
    case json
}

/// A swift-log `LogHandler` that writes one JSON object per line:
///
/// ```json
/// {"timestamp":"2026-01-02T03:04:05.678Z","level":"notice","label":"plexus","message":"ready","metadata":{"address":"127.0.0.1:8080"}}
/// ```
///
/// `timestamp` is UTC with milliseconds; `metadata` merges the handler's metadata, the metadata
/// provider's and the call's (the call wins), nested dictionaries and arrays kept as JSON objects
/// and arrays. Every string is escaped (quotes, backslashes and every control character), so no
/// value can end a line or break the object. Each line is written with a single `write(2)`.
public struct JSONLogHandler: LogHandler {
    /// The logger's label.
    public let label: String
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let output: @Sendable (String) -> Void

    /// A handler writing lines to `output` (each line ends with `\n`).
    public init(label: String, logLevel: Logger.Level = .info, metadataProvider: Logger.MetadataProvider? = nil,
                output: @escaping @Sendable (String) -> Void) {
        self.label = label
        self.logLevel = logLevel
        self.metadataProvider = metadataProvider
        self.output = output
    }

    /// A handler writing to standard error.
    public static func standardError(label: String, logLevel: Logger.Level = .info) -> JSONLogHandler {
        JSONLogHandler(label: label, logLevel: logLevel) { line in
            var line = line
            line.withUTF8 { Descriptor.writeAll(STDERR_FILENO, UnsafeRawBufferPointer($0)) }
        }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let own = event.metadata { merged.merge(own) { _, new in new } }
        var line = "{\"timestamp\":\"\(Self.timestamp())\",\"level\":\"\(event.level.rawValue)\",\"label\":"
        Self.appendString(label, to: &line)
        line += ",\"message\":"
        Self.appendString(event.message.description, to: &line)
        line += ",\"metadata\":"
        Self.appendValue(.dictionary(merged), to: &line)
        line += "}\n"
        output(line)
    }

    /// `value` as JSON (dictionary keys sorted, so lines are stable).
    static func appendValue(_ value: Logger.Metadata.Value, to line: inout String) {
        switch value {
        case let .string(text): appendString(text, to: &line)
        case let .stringConvertible(convertible): appendString(convertible.description, to: &line)
        case let .array(values):
            line += "["
            for (index, element) in values.enumerated() {
                if index > 0 { line += "," }
                appendValue(element, to: &line)
            }
            line += "]"
        case let .dictionary(entries):
            line += "{"
            for (index, key) in entries.keys.sorted().enumerated() {
                if index > 0 { line += "," }
                appendString(key, to: &line)
                line += ":"
                appendValue(entries[key]!, to: &line)
            }
            line += "}"
        }
    }

    /// `text` as a JSON string: `"` and `\` escaped, control characters as `\n`, `\t`, `\r` or
    /// `\u00XX`, and U+2028/U+2029 as `\u2028`/`\u2029` (they end lines in some readers).
    static func appendString(_ text: String, to line: inout String) {
        line += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": line += "\\\""
            case "\\": line += "\\\\"
            case "\n": line += "\\n"
            case "\r": line += "\\r"
            case "\t": line += "\\t"
            case "\u{2028}": line += "\\u2028"
            case "\u{2029}": line += "\\u2029"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16)
                    line += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    line.unicodeScalars.append(scalar)
                }
            }
        }
        line += "\""
    }

    /// Now in UTC, `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let millis = Int(now.tv_nsec / 1_000_000)
        let millisText = millis < 10 ? "00\(millis)" : millis < 100 ? "0\(millis)" : "\(millis)"
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(millisText)Z"
    }
}
