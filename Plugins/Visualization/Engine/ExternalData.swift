/// Data the host fetches for the engine: a stored data set, a window of a bus topic, or another plugin's
/// service. The spec names it; the host resolves each one to a ``DataTable`` before compiling.
public enum ExternalSource: Hashable, Sendable {
    /// `{"name": ...}`: rows the plugin stores per tenant.
    case named(String)
    /// `{"topic": ..., "last": N | "minutes": M, "field": "a.b", "as": "value"}`: recent events of a topic.
    case topic(TopicWindow)
    /// `{"service": ..., "payload": {...}}`: the rows another plugin's bus service answers with.
    case service(name: String, payload: String)
}

/// The recent events of one topic (or pattern) a chart reads.
public struct TopicWindow: Hashable, Sendable {
    /// A topic or a pattern (`+` one segment, `#` the rest).
    public var topic: String
    /// At most this many of the newest events.
    public var last: Int?
    /// Only events of the last this many minutes.
    public var minutes: Double?
    /// A dot-separated path into the JSON payload (`reading.celsius`); nil: the payload's top-level scalars.
    public var field: String?
    /// The column the field's value lands in (default: the path's last segment).
    public var name: String

    public init(topic: String, last: Int? = nil, minutes: Double? = nil, field: String? = nil, name: String? = nil) {
        self.topic = topic
        self.last = last
        self.minutes = minutes
        self.field = field
        self.name = name ?? field?.split(separator: ".").last.map(String.init) ?? "value"
    }

    /// The longest window a spec may ask for.
    public static let maxEvents = 100_000
    public static let maxMinutes = 7.0 * 24 * 60

    /// True when `topic` matches the window's topic or pattern (`+` one segment, trailing `#` the rest).
    public func matches(_ candidate: String) -> Bool {
        let pattern = topic.split(separator: ".", omittingEmptySubsequences: false)
        let parts = candidate.split(separator: ".", omittingEmptySubsequences: false)
        for (index, segment) in pattern.enumerated() {
            if segment == "#" { return index == pattern.count - 1 }
            guard index < parts.count, segment == "+" || segment == parts[index] else { return false }
        }
        return pattern.count == parts.count
    }
}

/// One event of a topic window, as the host keeps it.
public struct WindowEvent: Sendable {
    public var timeMilliseconds: Double
    public var topic: String
    public var payload: [UInt8]

    public init(timeMilliseconds: Double, topic: String, payload: [UInt8]) {
        self.timeMilliseconds = timeMilliseconds
        self.topic = topic
        self.payload = payload
    }
}

extension TopicWindow {
    /// The window's rows, oldest first: `time` (milliseconds since 1970, for a temporal axis), `topic`, and
    /// the value at `field` under `name` (null when an event lacks it or its payload is not JSON); without a
    /// field, every top-level scalar member of a JSON-object payload becomes a column.
    public func table(_ events: [WindowEvent], now: Double) -> DataTable {
        var selected = events.filter { matches($0.topic) }
        if let minutes { selected.removeAll { $0.timeMilliseconds < now - minutes * 60_000 } }
        if let last, selected.count > last { selected.removeFirst(selected.count - last) }
        let path = field?.split(separator: ".").map(String.init)
        var cells: [[DataValue]] = [Array(repeating: .null, count: selected.count), Array(repeating: .null, count: selected.count)]
        var extra: [String: [DataValue]] = [:]
        var order: [String] = []
        // The field's column exists even before any event carries it (an empty chart, not a missing field).
        if path != nil { extra[name] = Array(repeating: .null, count: selected.count); order.append(name) }
        for (row, event) in selected.enumerated() {
            cells[0][row] = .number(event.timeMilliseconds)
            cells[1][row] = .string(event.topic)
            let payload = try? JSONParser.parse(event.payload, maxDepth: 32)
            if let path {
                var value = payload
                for key in path { value = value?[key] }
                if let value { extra[name]![row] = DataValue(value) }
            } else if case .object(let members)? = payload {
                for (key, value) in members where key != "time" && key != "topic" {
                    switch value {
                    case .array, .object, .rows: continue
                    default: break
                    }
                    if extra[key] == nil { extra[key] = Array(repeating: .null, count: selected.count); order.append(key) }
                    extra[key]![row] = DataValue(value)
                }
            }
        }
        return DataTable(names: ["time", "topic"] + order, columns: cells + order.map { extra[$0]! }, count: selected.count)
    }
}

/// Reads the `data` forms the host resolves.
enum ExternalSourceParser {
    static let maxTopicBytes = 256

    static func topic(_ object: [String: JSONValue], _ path: String) throws(ChartError) -> TopicWindow {
        let topic = try string(object["topic"], path + ".topic")
        guard (1...maxTopicBytes).contains(topic.utf8.count), !topic.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) else {
            throw ChartError(.invalid, path: path + ".topic", "must be 1 to \(maxTopicBytes) bytes of printable characters without spaces")
        }
        var window = TopicWindow(topic: topic)
        if let last = object["last"] { window.last = Int(try bounded(last, path + ".last", 1...Double(TopicWindow.maxEvents))) }
        if let minutes = object["minutes"] { window.minutes = try bounded(minutes, path + ".minutes", 0.001...TopicWindow.maxMinutes) }
        if window.last == nil, window.minutes == nil { window.last = 1000 }
        if let field = object["field"] {
            let text = try string(field, path + ".field")
            let segments = text.split(separator: ".", omittingEmptySubsequences: false)
            guard text.utf8.count <= 256, segments.count <= 16, segments.allSatisfy({ !$0.isEmpty }) else {
                throw ChartError(.invalid, path: path + ".field", "'\(text.prefix(60))' is not a dot-separated path (1 to 16 non-empty segments)")
            }
            window.field = text
            window.name = String(segments.last!)
        }
        if let name = object["as"] {
            let text = try string(name, path + ".as")
            guard (1...64).contains(text.utf8.count), text != "time", text != "topic" else {
                throw ChartError(.invalid, path: path + ".as", "must be 1 to 64 characters and not 'time' or 'topic'")
            }
            window.name = text
        }
        return window
    }

    static func service(_ object: [String: JSONValue], _ path: String) throws(ChartError) -> ExternalSource {
        let name = try string(object["service"], path + ".service")
        guard (1...128).contains(name.utf8.count), name.utf8.allSatisfy({ $0 > 0x20 && $0 != 0x7F }) else {
            throw ChartError(.invalid, path: path + ".service", "must be a service name of 1 to 128 printable characters")
        }
        let payload = object["payload"]?.serialized ?? "{}"
        guard payload.utf8.count <= 64 << 10 else { throw ChartError(.tooLarge, path: path + ".payload", "over 64 KiB") }
        return .service(name: name, payload: payload)
    }
}

/// The recent events per tenant and topic a host keeps for topic windows: at most `perTopic` events of
/// each topic and `maxTopics` topics (the topic heard from least recently is forgotten first).
public struct EventWindowBuffer: Sendable {
    public let perTopic: Int
    public let maxTopics: Int
    private var events: [Key: [WindowEvent]] = [:]
    private var touched: [Key: UInt64] = [:]
    private var clock: UInt64 = 0

    private struct Key: Hashable { var tenant: String; var topic: String }

    public init(perTopic: Int, maxTopics: Int) {
        self.perTopic = max(1, perTopic)
        self.maxTopics = max(1, maxTopics)
    }

    /// Keeps `event` for `tenant`.
    public mutating func append(_ event: WindowEvent, tenant: String) {
        let key = Key(tenant: tenant, topic: event.topic)
        if events[key] == nil, events.count >= maxTopics, let oldest = touched.min(by: { $0.value < $1.value })?.key {
            events[oldest] = nil
            touched[oldest] = nil
        }
        clock += 1
        touched[key] = clock
        events[key, default: []].append(event)
        // Trim in halves so appending stays amortised O(1).
        if let count = events[key]?.count, count >= 2 * perTopic { events[key]!.removeFirst(count - perTopic) }
    }

    /// The tenant's kept events of the topics `window` matches, oldest first.
    public func events(for window: TopicWindow, tenant: String) -> [WindowEvent] {
        var found: [WindowEvent] = []
        for (key, list) in events where key.tenant == tenant && window.matches(key.topic) { found += list.suffix(perTopic) }
        return found.sorted { $0.timeMilliseconds < $1.timeMilliseconds }
    }

    /// How many topics are kept.
    public var topicCount: Int { events.count }
}
