import Foundation

/// Reads Server-Sent Events frames from a chunked stream (for tests of event streams such as
/// `GET /api/v1/events/stream`).
public final class SSEReader {
    /// One event frame.
    public struct Frame {
        /// The `id:` field.
        public var id: String?
        /// The `event:` field.
        public var event: String?
        /// The `data:` lines, joined.
        public var data: String
        /// `data` parsed as a JSON object (empty when it is not one).
        public var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(data.utf8))) as? [String: Any] ?? [:] }
    }

    /// The connection the frames arrive on (its response head already read).
    public let client: TestClient
    private var text = ""

    /// Reads frames from `client`, whose response head has been read.
    public init(client: TestClient) { self.client = client }

    /// `subscribed` frames read by ``next()`` and not yet taken by ``subscribed()``.
    private var subscribedFrames: [Frame] = []
    /// Event frames read by ``subscribed()`` and not yet taken by ``next()``.
    private var eventFrames: [Frame] = []

    /// The next event frame (comments, `retry:` lines and the stream's `subscribed` frame are skipped).
    public func next() throws -> Frame {
        if !eventFrames.isEmpty { return eventFrames.removeFirst() }
        while true {
            let frame = try nextFrame()
            if frame.id == nil, frame.event == "subscribed" {
                subscribedFrames.append(frame)
                continue
            }
            return frame
        }
    }

    /// The stream's `event: subscribed` frame (no `id:`), sent once its subscriptions are complete:
    /// its topics. Event frames read while waiting for it are kept for ``next()``.
    public func subscribed() throws -> [String] {
        while subscribedFrames.isEmpty {
            let frame = try nextFrame()
            if frame.id == nil, frame.event == "subscribed" { subscribedFrames.append(frame) } else { eventFrames.append(frame) }
        }
        return subscribedFrames.removeFirst().json["topics"] as? [String] ?? []
    }

    private func nextFrame() throws -> Frame {
        while true {
            if let end = text.range(of: "\n\n") {
                let block = String(text[..<end.lowerBound])
                text.removeSubrange(..<end.upperBound)
                var frame = Frame(data: "")
                var hasData = false
                for line in block.split(separator: "\n", omittingEmptySubsequences: false) {
                    if line.hasPrefix("id: ") { frame.id = String(line.dropFirst(4)) }
                    if line.hasPrefix("event: ") { frame.event = String(line.dropFirst(7)) }
                    if line.hasPrefix("data: ") {
                        frame.data += String(line.dropFirst(6))
                        hasData = true
                    }
                }
                if hasData { return frame }
                continue
            }
            guard let chunk = try client.readChunk() else { throw TestFailure("stream ended") }
            text += String(decoding: chunk, as: UTF8.self)
        }
    }
}
