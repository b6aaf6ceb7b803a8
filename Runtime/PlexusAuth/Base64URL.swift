/// Strict base64url (RFC 4648 section 5) as JWS uses it: no padding, no whitespace, no `+` or `/`,
/// and the unused low bits of the last character must be zero (one encoding per byte string).
enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Value of each ASCII byte, 0xFF for bytes outside the alphabet.
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        return table
    }()

    /// Decodes `input`; nil if any byte is outside the alphabet, the length is impossible
    /// (1 mod 4), or the trailing bits are not zero.
    static func decode<C: Collection<UInt8>>(_ input: C) -> [UInt8]? {
        let count = input.count
        if count % 4 == 1 { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in input {
            let value = values[Int(byte)]
            if value == 0xFF { return nil }
            accumulator = (accumulator << 6) | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
                accumulator &= (1 << UInt32(bits)) - 1
            }
        }
        if accumulator != 0 { return nil }  // non-canonical: leftover bits must be zero
        return output
    }

    /// Encodes `bytes` without padding.
    static func encode<C: Collection<UInt8>>(_ bytes: C) -> String {
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count * 4 + 2) / 3)
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in bytes {
            accumulator = (accumulator << 8) | UInt32(byte)
            bits += 8
            while bits >= 6 {
                bits -= 6
                output.append(alphabet[Int((accumulator >> UInt32(bits)) & 0x3F)])
            }
            accumulator &= (1 << UInt32(bits)) - 1
        }
        if bits > 0 { output.append(alphabet[Int((accumulator << UInt32(6 - bits)) & 0x3F)]) }
        return String(decoding: output, as: UTF8.self)
    }

    /// Whether `byte` is in the base64url alphabet.
    static func isAlphabet(_ byte: UInt8) -> Bool { values[Int(byte)] != 0xFF }

    /// Whether every byte of `bytes` is in the alphabet (the table loaded once, not once per byte).
    static func isAlphabet(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let table = values
        return table.withUnsafeBufferPointer { table in
            for byte in bytes where table[Int(byte)] == 0xFF { return false }
            return true
        }
    }
}
