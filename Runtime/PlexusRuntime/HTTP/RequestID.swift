import Foundation

/// Request ids: a client's `X-Request-Id` is kept when it is sane, otherwise one is generated.
struct RequestIDGenerator {
    private let prefix: String
    private var counter: UInt64 = 0

    init() {
        prefix = String(UInt32.random(in: .min ... .max), radix: 16)
    }

    /// A new id, unique within this process and unlikely to repeat across processes.
    mutating func next() -> String {
        counter &+= 1
        return prefix + "-" + String(counter, radix: 16)
    }

    /// Whether a client-supplied id may be kept: 1–128 characters of `A-Z a-z 0-9 . _ : -`.
    static func isSane(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard (1...128).contains(bytes.count) else { return false }
        return bytes.allSatisfy { byte in
            (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte) || byte == 46 || byte == 95 || byte == 58 || byte == 45
        }
    }
}
