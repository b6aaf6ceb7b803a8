import PlexusEventLog
@testable import PlexusRuntime

/// The request line's target, the bus's topic patterns and event ids, and a publish body.
enum ProtocolHarnesses {
    static let all: [Harness] = [
        Harness(name: "request-target", summary: "a request target after a method byte (RequestTarget.parse)", run: requestTarget),
        Harness(name: "topic-pattern", summary: "a topic pattern and topics matched against it; a Last-Event-ID (ULID)", run: topicPattern),
        Harness(name: "publish-request", summary: "the JSON body of POST /api/v1/events (PublishRequest)", run: publishRequest),
    ]

    static let methods = ["GET", "POST", "OPTIONS", "CONNECT", "PUT", "DELETE"]

    /// The first byte picks the method (CONNECT and OPTIONS take their own forms); the rest is the target.
    static func requestTarget(_ input: UnsafeRawBufferPointer) {
        guard let first = input.first else { return }
        let target = UnsafeRawBufferPointer(rebasing: input.dropFirst())
        guard let parsed = try? RequestTarget.parse(target, method: methods[Int(first) % methods.count]) else { return }
        // What the parser promises: the path of the origin form starts with '/'; no fragment survives.
        if parsed.form == .origin { precondition(parsed.rawPath.hasPrefix("/"), "origin-form path without '/'") }
        precondition(!parsed.query.contains("#") && !parsed.rawPath.contains("#"), "a fragment passed the target parser")
    }

    /// Line 1 is a pattern; every further line a topic to match against it. Each line is also tried as an event id.
    static func topicPattern(_ input: UnsafeRawBufferPointer) {
        let lines = input.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let first = lines.first else { return }
        for line in lines {
            if let id = ULID(line) { precondition(ULID(id.description) == id, "a ULID does not round-trip: \(line)") }
            _ = try? Topic.validate(line)
        }
        guard let pattern = try? TopicPattern(first) else { return }
        var trie = TopicTrie<Int>()
        trie.insert(pattern, 1)
        for topic in lines.dropFirst() {
            let direct = pattern.matches(topic)
            let viaTrie = !trie.matches(topic).isEmpty
            // The trie (the bus's router) and the pattern itself must agree on valid topics.
            if (try? Topic.validate(topic)) != nil { precondition(direct == viaTrie, "pattern '\(first)' and its trie disagree on '\(topic)'") }
        }
    }

    static func publishRequest(_ input: UnsafeRawBufferPointer) {
        let body = RawBytes()
        if let base = input.baseAddress { body.append(base, input.count) }
        _ = try? PublishRequest(body)
    }
}
