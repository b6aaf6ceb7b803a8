// Copied from Tests/PlexusIntegrationTests/Support/SSEReader.swift (the test targets share no code).
import Foundation
import PlexusTesting

/// Reads Server-Sent Events frames from a chunked stream.
final class SSEReader {
    struct Frame {
        var id: String?
        var event: String?
        var data: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(data.utf8))) as? [String: Any] ?? [:] }
    }

    let client: TestClient
    private var text = ""

    init(client: TestClient) { self.client = client }

    /// The next event frame (comments and `retry:` lines are skipped).
    func next() throws -> Frame {
        while true {
            if let end = text.range(of: "\n\n") {
                let block = String(text[..<end.lowerBound])
                text.removeSubrange(..<end.upperBound)
                var frame = Frame(data: "")
                var hasData = false
                for line in block.split(separator: "\n", omittingEmptySubsequences: false) {
                    if line.hasPrefix("id: ") { frame.id = String(line.dropFirst(4)) }
                    if line.hasPrefix("event: ") { frame.event = String(line.dropFirst(7)) }
                    if line.hasPrefix("data: ") { frame.data += String(line.dropFirst(6)); hasData = true }
                }
                if hasData { return frame }
                continue
            }
            guard let chunk = try client.readChunk() else { throw TestFailure("stream ended") }
            text += String(decoding: chunk, as: UTF8.self)
        }
    }
}
