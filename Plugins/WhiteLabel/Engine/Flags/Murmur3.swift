/// MurmurHash3 (x86, 32 bit): the stickiness hash. Stable across processes and releases (it
/// never depends on Swift's seeded `Hasher`), so a user keeps the same bucket everywhere.
public enum Murmur3 {
    /// The hash of `bytes` with `seed`.
    @inline(__always)
    public static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt32 = 0) -> UInt32 {
        let c1: UInt32 = 0xcc9e_2d51, c2: UInt32 = 0x1b87_3593
        var h = seed
        let count = bytes.count
        let blocks = count / 4
        for index in 0..<blocks {
            var k = bytes.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self).littleEndian
            k &*= c1
            k = (k << 15) | (k >> 17)
            k &*= c2
            h ^= k
            h = (h << 13) | (h >> 19)
            h = h &* 5 &+ 0xe654_6b64
        }
        var k: UInt32 = 0
        let tail = blocks * 4
        switch count & 3 {
        case 3:
            k ^= UInt32(bytes[tail + 2]) << 16
            fallthrough
        case 2:
            k ^= UInt32(bytes[tail + 1]) << 8
            fallthrough
        case 1:
            k ^= UInt32(bytes[tail])
            k &*= c1
            k = (k << 15) | (k >> 17)
            k &*= c2
            h ^= k
        default:
            break
        }
        h ^= UInt32(truncatingIfNeeded: count)
        h ^= h >> 16
        h &*= 0x85eb_ca6b
        h ^= h >> 13
        h &*= 0xc2b2_ae35
        h ^= h >> 16
        return h
    }

    /// The hash of `prefix` + `:` + `value` without building the joined string.
    @inline(__always)
    public static func hash(prefix: [UInt8], _ value: String, seed: UInt32 = 0) -> UInt32 {
        var value = value
        return value.withUTF8 { text in
            let total = prefix.count + 1 + text.count
            return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: total) { buffer in
                prefix.withUnsafeBufferPointer { head in
                    _ = UnsafeMutableRawBufferPointer(buffer).copyBytes(from: UnsafeRawBufferPointer(head))
                }
                buffer[prefix.count] = UInt8(ascii: ":")
                if text.count > 0 {
                    UnsafeMutableRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(buffer)[(prefix.count + 1)...]).copyMemory(from: UnsafeRawBufferPointer(text))
                }
                return hash(UnsafeRawBufferPointer(buffer), seed: seed)
            }
        }
    }

    /// Unleash's normalisation: 1 to 100 for `value` in `group`.
    @inline(__always)
    public static func bucket(group: [UInt8], _ value: String, modulo: UInt32 = 100, seed: UInt32 = 0) -> UInt32 {
        hash(prefix: group, value, seed: seed) % modulo + 1
    }
}
