/// MurmurHash3 (x86, 32 bit): the stickiness hash. Stable across processes and releases (it
/// never depends on Swift's seeded `Hasher`), so a user keeps the same bucket everywhere.
public enum Murmur3 {
    /// The hash of `bytes` with `seed`.
    @inline(__always)
    public static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt32 = 0) -> UInt32 {
        var h = seed
        let count = bytes.count, tail = count & ~3
        var offset = 0
        while offset < tail {
            mix(&h, bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self).littleEndian)
            offset += 4
        }
        var k: UInt32 = 0
        switch count & 3 {
        case 3:
            k ^= UInt32(bytes[tail + 2]) << 16
            fallthrough
        case 2:
            k ^= UInt32(bytes[tail + 1]) << 8
            fallthrough
        case 1:
            k ^= UInt32(bytes[tail])
            h ^= scramble(k)
        default:
            break
        }
        return finish(h, length: count)
    }

    /// The hash of `prefix` + `:` + `value` without building the joined string (a hot path
    /// keeps the ``Prefix`` instead, folded once).
    public static func hash(prefix: [UInt8], _ value: String, seed: UInt32 = 0) -> UInt32 {
        Prefix(prefix, seed: seed).hash(value)
    }

    /// Unleash's normalisation: 1 to 100 for `value` in `group` (`group` folded with ``Prefix``).
    @inline(__always)
    public static func bucket(group: Prefix, _ value: String, modulo: UInt32 = 100) -> UInt32 {
        group.hash(value) % modulo + 1
    }

    /// One 4-byte block folded into `h`.
    @inline(__always)
    static func mix(_ h: inout UInt32, _ block: UInt32) {
        h ^= scramble(block)
        h = (h << 13) | (h >> 19)
        h = h &* 5 &+ 0xe654_6b64
    }

    @inline(__always)
    static func scramble(_ block: UInt32) -> UInt32 {
        var k = block &* 0xcc9e_2d51
        k = (k << 15) | (k >> 17)
        return k &* 0x1b87_3593
    }

    @inline(__always)
    static func finish(_ hash: UInt32, length: Int) -> UInt32 {
        var h = hash ^ UInt32(truncatingIfNeeded: length)
        h ^= h >> 16
        h &*= 0x85eb_ca6b
        h ^= h >> 13
        h &*= 0xc2b2_ae35
        h ^= h >> 16
        return h
    }
}
