import PlexusEventLog

/// Writes Server-Sent Events frames so that no value can end a line or a frame.
///
/// A field is `name: value` ending in `\n`. Single-line fields (`id`, `event`) go through
/// ``singleLine(_:)``, which replaces CR, LF and NUL with U+FFFD, so no value, whatever it
/// holds, can start a forged field or end the frame; `data` is split on every line ending
/// (`\r\n`, `\r`, `\n`) into one `data:` line per line, which a client joins back with `\n`.
enum SSEEncoding {
    /// The shape of the frames a stream sends.
    enum Format: String, Hashable {
        /// `id:`, `event: <topic>`, `data: <event JSON>`: for clients that listen per topic.
        case standard
        /// `id:` and `data: {"topic": …, "data": <event JSON>}` with no `event:` line, so a
        /// browser's `EventSource.onmessage` sees every event.
        case message
    }

    /// The frame of `event` in `format`.
    static func frame(for event: EventEnvelope, format: Format) -> [UInt8] {
        switch format {
        case .standard:
            return frame(id: event.id.description, event: event.topic, data: EventJSON.bytes(event))
        case .message:
            // {"data": <event JSON>, "topic": "<topic>"}: spliced, the event's JSON is already encoded.
            var data = Array(#"{"data":"#.utf8)
            data.append(contentsOf: EventJSON.bytes(event))
            data.append(contentsOf: #","topic":"#.utf8)
            data.append(contentsOf: EventJSON.string(event.topic))
            data.append(UInt8(ascii: "}"))
            return frame(id: event.id.description, event: nil, data: data)
        }
    }

    /// A frame with the given fields, ended by an empty line.
    static func frame(id: String?, event: String?, data: [UInt8]) -> [UInt8] {
        var frame: [UInt8] = []
        frame.reserveCapacity(data.count + 64)
        if let id { field("id", id, into: &frame) }
        if let event { field("event", event, into: &frame) }
        appendData(data, into: &frame)
        frame.append(newline)
        return frame
    }

    /// `name: value\n` with `value` made single-line.
    static func field(_ name: String, _ value: String, into frame: inout [UInt8]) {
        frame.append(contentsOf: name.utf8)
        frame.append(contentsOf: [UInt8(ascii: ":"), UInt8(ascii: " ")])
        frame.append(contentsOf: singleLine(value))
        frame.append(newline)
    }

    /// `data: <line>\n` for every line of `data`, split on `\r\n`, `\r` and `\n`.
    static func appendData(_ data: [UInt8], into frame: inout [UInt8]) {
        let prefix = Array("data: ".utf8)
        frame.append(contentsOf: prefix)
        var index = 0
        while index < data.count {
            let byte = data[index]
            if byte == carriageReturn || byte == newline {
                frame.append(newline)
                frame.append(contentsOf: prefix)
                if byte == carriageReturn, index + 1 < data.count, data[index + 1] == newline { index += 1 }
            } else if byte == 0 {
                frame.append(contentsOf: replacement)
            } else {
                frame.append(byte)
            }
            index += 1
        }
        frame.append(newline)
    }

    /// The UTF-8 of `value` with CR, LF and NUL replaced by U+FFFD.
    static func singleLine(_ value: String) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(value.utf8.count)
        for byte in value.utf8 {
            if byte == carriageReturn || byte == newline || byte == 0 {
                bytes.append(contentsOf: replacement)
            } else {
                bytes.append(byte)
            }
        }
        return bytes
    }

    private static let newline = UInt8(ascii: "\n")
    private static let carriageReturn = UInt8(ascii: "\r")
    /// U+FFFD REPLACEMENT CHARACTER.
    private static let replacement: [UInt8] = [0xEF, 0xBF, 0xBD]
}

/// The SSE frames of recent events, encoded once and shared by every stream that sends them
/// (a fan-out to many clients would otherwise encode the same JSON once per client), bounded
/// by the bytes the frames hold. Loop thread only.
final class SSEFrameCache {
    private struct Key: Hashable {
        let id: ULID
        let format: SSEEncoding.Format
    }

    private var cache: ByteBoundedCache<Key, [UInt8]>
    /// The frame asked for last: a fan-out asks for the same frame once per client in a row,
    /// and this answers all but the first without hashing.
    private var last: (key: Key, frame: [UInt8])?
    /// The most bytes the cached frames hold.
    static let defaultByteLimit = 8 << 20

    /// An empty cache holding at most `byteLimit` bytes of frames.
    init(byteLimit: Int = SSEFrameCache.defaultByteLimit) {
        cache = ByteBoundedCache(byteLimit: byteLimit)
    }

    /// The bytes the cached frames hold now.
    var bytesHeld: Int { cache.bytesHeld }

    /// The frame of `event` in `format`, from the cache or encoded now.
    func frame(for event: EventEnvelope, format: SSEEncoding.Format) -> [UInt8] {
        let key = Key(id: event.id, format: format)
        if let last, last.key == key { return last.frame }
        if let cached = cache[key] {
            last = (key, cached)
            return cached
        }
        let frame = SSEEncoding.frame(for: event, format: format)
        // A frame too big for the cache is not remembered here either: it stays out of memory.
        last = cache.store(frame, for: key, cost: frame.count + 64) ? (key, frame) : nil
        return frame
    }
}
