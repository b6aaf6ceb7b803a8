extension Murmur3 {
    /// MurmurHash3 part-way: a fixed prefix and a `:` folded in once (a rollout's group, a
    /// flag's name), so hashing `prefix:value` reads the value's bytes in place, with no joined
    /// copy. Gives exactly ``Murmur3/hash(_:seed:)`` of the joined bytes.
    public struct Prefix: Sendable {
        /// The state after the prefix's whole blocks.
        let state: UInt32
        /// The prefix's last 0 to 3 bytes, not yet a whole block (little-endian, low bytes first).
        let carry: UInt32
        /// How many bytes `carry` holds, times 8.
        let carryBits: UInt32
        /// The prefix's length with the separator.
        let length: Int

        /// `prefix` followed by `separator` (a `:` by default), hashed with `seed`.
        public init(_ prefix: [UInt8], separator: UInt8 = UInt8(ascii: ":"), seed: UInt32 = 0) {
            var h = seed, carry: UInt32 = 0, count: UInt32 = 0
            for index in 0...prefix.count {
                carry |= UInt32(index < prefix.count ? prefix[index] : separator) << (8 * count)
                count += 1
                if count == 4 {
                    Murmur3.mix(&h, carry)
                    (carry, count) = (0, 0)
                }
            }
            (state, self.carry, carryBits, length) = (h, carry, 8 * count, prefix.count + 1)
        }

        /// The hash of the prefix, the separator and `bytes`.
        @inline(__always)
        public func hash(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
            var h = state
            // The value's words arrive shifted by the carry's length: each block is the carry
            // topped up with the word's low bytes, and the word's high bytes carry on.
            var pending = UInt64(carry)
            let count = bytes.count, words = count / 4
            var offset = 0
            while offset < words * 4 {
                let word = UInt64(bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self).littleEndian)
                let joined = pending | word &<< UInt64(carryBits)
                Murmur3.mix(&h, UInt32(truncatingIfNeeded: joined))
                pending = joined &>> 32
                offset += 4
            }
            // What is left: the carry and the value's last 0 to 3 bytes, 0 to 6 bytes in all.
            var bits = UInt64(carryBits)
            while offset < count {
                pending |= UInt64(bytes[offset]) &<< bits
                bits += 8
                offset += 1
            }
            if bits >= 32 {
                Murmur3.mix(&h, UInt32(truncatingIfNeeded: pending))
                pending &>>= 32
                bits -= 32
            }
            if bits > 0 { h ^= Murmur3.scramble(UInt32(truncatingIfNeeded: pending)) }
            return Murmur3.finish(h, length: length + count)
        }

        /// The hash of the prefix, the separator and `value`'s UTF-8, read in place.
        @inline(__always)
        public func hash(_ value: String) -> UInt32 {
            if let hashed = value.utf8.withContiguousStorageIfAvailable({ hash(UnsafeRawBufferPointer($0)) }) { return hashed }
            var copy = value
            return copy.withUTF8 { hash(UnsafeRawBufferPointer($0)) }
        }
    }
}
