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

    /// Whether `text` starts with ``prefix`` (an API key rather than a JWT in a bearer credential),
    /// compared on its UTF-8 bytes in place.
    public static func hasPrefix(_ text: String) -> Bool {
        let prefix: StaticString = "plx_"
        let length = prefix.utf8CodeUnitCount
        return text.utf8.withContiguousStorageIfAvailable { bytes in
            guard bytes.count >= length else { return false }
            for index in 0..<length where bytes[index] != prefix.utf8Start[index] { return false }
            return true
        } ?? text.utf8.starts(with: Self.prefix.utf8)
    }

    /// Whether `text` has the shape of an API key (it may still be unknown or revoked). Use it
    /// to tell an API key from a JWT in a bearer credential.
    public static func matches(_ text: Substring) -> Bool { id(of: text) != nil }

    /// The id part of a well-formed key, nil if `text` is not shaped like a key.
    static func id(of text: Substring) -> Substring? {
        // Checked on the UTF-8 bytes in place: this runs for every request that presents a key
        // (the generic `Substring.UTF8View` walk it replaces cost about 4,000 instructions).
        var text = text
        let shaped = text.withUTF8 { bytes -> Bool in
            guard bytes.count == keyLength else { return false }
            let prefix: StaticString = "plx_"
            let prefixLength = prefix.utf8CodeUnitCount
            for index in 0..<prefixLength where bytes[index] != prefix.utf8Start[index] { return false }
            for byte in bytes[prefixLength..<(prefixLength + idLength)] {
                guard (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"))
                else { return false }
            }
            guard bytes[prefixLength + idLength] == UInt8(ascii: "_") else { return false }
            return Base64URL.isAlphabet(UnsafeBufferPointer(rebasing: bytes[(prefixLength + idLength + 1)...]))
        }
        guard shaped else { return nil }
        let utf8 = text.utf8
        let idStart = utf8.index(utf8.startIndex, offsetBy: prefix.utf8.count)
        return text[idStart..<utf8.index(idStart, offsetBy: idLength)]
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
