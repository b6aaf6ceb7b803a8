import Crypto

/// The shape of an API key: `plx_<id>_<secret>`.
///
/// `id` is 12 lowercase hex digits (48 random bits; public, used to find the record); `secret`
/// is 32 random bytes in unpadded base64url (43 characters). Only SHA-256 of the whole key is
/// stored, so the id cannot be moved onto another key's secret. Randomness and hashing come from
/// swift-crypto.
public enum APIKeyFormat {
    /// Every key starts with this.
    public static let prefix = "plx_"
    /// Hex digits in the id.
    public static let idLength = 12
    /// Base64url characters in the secret (32 bytes).
    public static let secretLength = 43
    /// Characters in a whole key.
    public static let keyLength = prefix.utf8.count + idLength + 1 + secretLength

    /// Whether `text` has the shape of an API key (it may still be unknown or revoked). Use it
    /// to tell an API key from a JWT in a bearer credential.
    public static func matches(_ text: Substring) -> Bool { id(of: text) != nil }

    /// The id part of a well-formed key, nil if `text` is not shaped like a key.
    static func id(of text: Substring) -> Substring? {
        let utf8 = text.utf8
        guard utf8.count == keyLength, utf8.starts(with: prefix.utf8) else { return nil }
        let idStart = utf8.index(utf8.startIndex, offsetBy: prefix.utf8.count)
        let idEnd = utf8.index(idStart, offsetBy: idLength)
        for byte in utf8[idStart..<idEnd] {
            guard (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"))
            else { return nil }
        }
        guard utf8[idEnd] == UInt8(ascii: "_") else { return nil }
        for byte in utf8[utf8.index(after: idEnd)...] where !Base64URL.isAlphabet(byte) { return nil }
        return text[idStart..<idEnd]
    }

    /// A new random key: its id and its plaintext.
    static func generate() -> (id: String, plaintext: String) {
        let idBytes = SymmetricKey(size: SymmetricKeySize(bitCount: idLength * 4)).withUnsafeBytes { Array($0) }
        let secret = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
        let id = hex(idBytes)
        return (id, prefix + id + "_" + Base64URL.encode(secret))
    }

    /// SHA-256 of the key's UTF-8 bytes.
    static func digest(_ key: Substring) -> SHA256.Digest {
        var hasher = SHA256()
        let done: Void? = key.utf8.withContiguousStorageIfAvailable { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        if done == nil { hasher.update(data: Array(key.utf8)) }
        return hasher.finalize()
    }

    /// Lowercase hex of `bytes`.
    static func hex<C: Sequence<UInt8>>(_ bytes: C) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var output: [UInt8] = []
        for byte in bytes {
            output.append(digits[Int(byte >> 4)])
            output.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// The bytes of lowercase or uppercase hex; nil if it is not hex of whole bytes.
    static func bytes(fromHex text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        func nibble(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var output: [UInt8] = []
        output.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { return nil }
            output.append(high << 4 | low)
            index += 2
        }
        return output
    }

    /// Whether two byte strings are equal, taking time that depends only on their lengths.
    static func constantTimeEqual(_ a: UnsafeRawBufferPointer, _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in 0..<a.count { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
