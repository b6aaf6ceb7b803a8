import CPlexusABI

/// Several byte strings packed into one buffer, so that all the `plexus_bytes` handed to C
/// point into memory that stays valid together for the duration of one call.
struct BytePack {
    private var storage: [UInt8] = []
    private var spans: [Range<Int>] = []

    /// Packs the UTF-8 bytes of `texts`.
    init(_ texts: [String]) {
        for text in texts { append(text.utf8) }
    }

    /// Adds one more byte string.
    mutating func append<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
        let start = storage.count
        storage.append(contentsOf: bytes)
        spans.append(start..<storage.count)
    }

    /// Calls `body` with one `plexus_bytes` per packed string, in order.
    func withBytes<R>(_ body: ([plexus_bytes]) -> R) -> R {
        storage.withUnsafeBufferPointer { buffer in
            let base = UnsafeRawPointer(buffer.baseAddress)?.assumingMemoryBound(to: CChar.self)
            return body(spans.map { span in plexus_bytes(data: base.map { $0 + span.lowerBound }, length: span.count) })
        }
    }
}

extension BytePack {
    /// Calls `body` with one NUL-terminated C string per packed string, in order (the strings
    /// must not contain NUL bytes themselves).
    func withCStrings<R>(_ body: ([UnsafePointer<CChar>]) -> R) -> R {
        withBytes { parts in
            var terminated: [CChar] = []
            var starts: [Int] = []
            for part in parts {
                starts.append(terminated.count)
                if let data = part.data { terminated.append(contentsOf: UnsafeBufferPointer(start: data, count: part.length)) }
                terminated.append(0)
            }
            return terminated.withUnsafeBufferPointer { buffer in body(starts.map { buffer.baseAddress! + $0 }) }
        }
    }
}
