import Foundation

/// Request ids: a client's `X-Request-Id` is kept when it is sane, otherwise one is generated.
struct RequestIDGenerator {
    /// A random 32-bit hex prefix and the `-` after it.
    private let prefix: [UInt8]
    private var counter: UInt64 = 0

    /// A generator whose first id has counter `counter + 1` (tests start near the end).
    init(counter: UInt64 = 0) {
        prefix = Array((String(UInt32.random(in: .min ... .max), radix: 16) + "-").utf8)
        self.counter = counter
    }

    /// Room for the longest id: a prefix of at most 9 bytes and 16 hex digits.
    typealias Bytes = (UInt64, UInt64, UInt64, UInt64)
    /// The most bytes an id has.
    static let longest = 25

    /// A new id, unique within this process and unlikely to repeat across processes:
    /// `<prefix>-<counter>` in hex.
    mutating func next() -> String {
        let (bytes, count) = nextBytes()
        return withUnsafeBytes(of: bytes) { String(decoding: UnsafeRawBufferPointer(rebasing: $0[..<count]), as: UTF8.self) }
    }

    /// A new id (see ``next()``) as bytes held inline, and its length.
    mutating func nextBytes() -> (Bytes, Int) {
        var bytes = Bytes(0, 0, 0, 0)
        let count = withUnsafeMutableBytes(of: &bytes) { next(into: $0) }
        return (bytes, count)
    }

    /// Writes a new id (see ``next()``) into `buffer` (at least ``longest`` bytes); returns its length.
    mutating func next(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        precondition(buffer.count >= Self.longest, "a request id buffer of \(buffer.count) bytes")
        counter &+= 1
        let counter = counter
        var count = prefix.count
        prefix.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        let digits = max(1, (64 - counter.leadingZeroBitCount + 3) / 4)
        for index in 0..<digits {
            let nibble = UInt8(truncatingIfNeeded: counter >> (4 * UInt64(digits - 1 - index))) & 0xF
            buffer[count + index] = nibble < 10 ? 48 + nibble : 87 + nibble
        }
        count += digits
        return count
    }

    /// Whether a client-supplied id may be kept: 1–128 characters of `A-Z a-z 0-9 . _ : -`.
    static func isSane(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard (1...128).contains(bytes.count) else { return false }
        return bytes.allSatisfy { byte in
            (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte) || byte == 46 || byte == 95 || byte == 58 || byte == 45
        }
    }
}
