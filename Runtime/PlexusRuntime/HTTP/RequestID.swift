import Foundation

/// Request ids: a client's `X-Request-Id` is kept when it is sane, otherwise one is generated.
struct RequestIDGenerator {
    /// A random 32-bit hex prefix and the `-` after it.
    private let prefix: [UInt8]
    private var counter: UInt64 = 0

    init() {
        prefix = Array((String(UInt32.random(in: .min ... .max), radix: 16) + "-").utf8)
    }

    /// A new id, unique within this process and unlikely to repeat across processes:
    /// `<prefix>-<counter>` in hex, written straight into the string's bytes.
    mutating func next() -> String {
        counter &+= 1
        let counter = counter
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: prefix.count + 16) { buffer in
            var count = prefix.count
            prefix.withUnsafeBufferPointer { _ = UnsafeMutableBufferPointer(rebasing: buffer[..<count]).initialize(from: $0) }
            let digits = max(1, (64 - counter.leadingZeroBitCount + 3) / 4)
            for index in 0..<digits {
                let nibble = UInt8(truncatingIfNeeded: counter >> (4 * UInt64(digits - 1 - index))) & 0xF
                buffer[count + index] = nibble < 10 ? 48 + nibble : 87 + nibble
            }
            count += digits
            return String(decoding: UnsafeBufferPointer(rebasing: buffer[..<count]), as: UTF8.self)
        }
    }

    /// Whether a client-supplied id may be kept: 1–128 characters of `A-Z a-z 0-9 . _ : -`.
    static func isSane(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard (1...128).contains(bytes.count) else { return false }
        return bytes.allSatisfy { byte in
            (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte) || byte == 46 || byte == 95 || byte == 58 || byte == 45
        }
    }
}
