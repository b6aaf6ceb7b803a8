#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Maps token byte strings to dense `Int32` ids with an open-addressing hash table.
///
/// Each distinct key is hashed once; ids are assigned in first-seen order over `a` then `b`.
enum Interner {
    /// The keys of one side: bytes plus `count + 1` boundaries.
    struct Keys {
        var bytes: ByteView
        var bounds: [Int]
    }

    /// Result of interning two token sequences against one table.
    struct Result {
        var a: [Int32]
        var b: [Int32]
        var uniqueCount: Int
    }

    @inline(__always)
    static func hash(_ p: UnsafePointer<UInt8>, _ len: Int) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: len)
        var i = 0
        let raw = UnsafeRawPointer(p)
        while i + 8 <= len {
            let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            h = (h ^ w) &* 0xFF51_AFD7_ED55_8CCD
            h ^= h >> 32
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < len {
            tail |= UInt64(p[i]) << shift
            shift += 8
            i += 1
        }
        h = (h ^ tail) &* 0xC4CE_B9FE_1A85_EC53
        h ^= h >> 29
        return h
    }

    /// Interns both sides; equal keys get equal ids.
    ///
    /// Each table slot packs the upper 32 hash bits with `id + 1`, so probing touches only
    /// the slot array until a hash matches; then the bytes are compared with `memcmp` against the
    /// id's first token (kept as one 32-bit token number: `a`'s tokens first, then `b`'s).
    static func intern(_ a: Keys, _ b: Keys) -> Result {
        let na = a.bounds.count - 1
        let nb = b.bounds.count - 1
        let total = na + nb
        var cap = 16
        while cap < total + total / 4 { cap <<= 1 }      // at most 80% full, usually far less
        let mask = cap - 1
        let slots = UnsafeMutablePointer<UInt64>.allocate(capacity: cap)
        slots.initialize(repeating: 0, count: cap)
        let firstToken = UnsafeMutablePointer<UInt32>.allocate(capacity: total + 1)
        defer { slots.deallocate(); firstToken.deallocate() }
        var unique = 0
        var outA = [Int32](repeating: 0, count: na)
        var outB = [Int32](repeating: 0, count: nb)

        // The table refers to tokens of both sides, so both byte buffers stay pinned for the whole pass.
        a.bytes.withUnsafeBufferPointer { pa in
            b.bytes.withUnsafeBufferPointer { pb in
                a.bounds.withUnsafeBufferPointer { ba in
                    b.bounds.withUnsafeBufferPointer { bb in
                        let baseA = pa.baseAddress ?? UnsafePointer(bitPattern: 1)!
                        let baseB = pb.baseAddress ?? UnsafePointer(bitPattern: 1)!
                        /// Start and length of token number `k` (over both sides).
                        @inline(__always) func token(_ k: Int) -> (UnsafePointer<UInt8>, Int) {
                            k < na ? (baseA + ba[k], ba[k + 1] - ba[k]) : (baseB + bb[k - na], bb[k - na + 1] - bb[k - na])
                        }
                        func run(_ offset: Int, _ count: Int, _ out: UnsafeMutableBufferPointer<Int32>) {
                            var t = 0
                            while t < count {
                                let (p, len) = token(offset + t)
                                let h = hash(p, len)
                                let tag = h & 0xFFFF_FFFF_0000_0000
                                var s = Int(truncatingIfNeeded: h) & mask
                                var found = -1
                                while true {
                                    let e = slots[s]
                                    if e == 0 { break }
                                    if e & 0xFFFF_FFFF_0000_0000 == tag {
                                        let id = Int(e & 0xFFFF_FFFF) - 1
                                        let (q, qlen) = token(Int(firstToken[id]))
                                        if qlen == len && memcmp(q, p, len) == 0 { found = id; break }
                                    }
                                    s = (s + 1) & mask
                                }
                                if found < 0 {
                                    found = unique
                                    firstToken[found] = UInt32(truncatingIfNeeded: offset + t)
                                    unique += 1
                                    slots[s] = tag | UInt64(found + 1)
                                }
                                out[t] = Int32(truncatingIfNeeded: found)
                                t += 1
                            }
                        }
                        outA.withUnsafeMutableBufferPointer { run(0, na, $0) }
                        outB.withUnsafeMutableBufferPointer { run(na, nb, $0) }
                    }
                }
            }
        }
        return Result(a: outA, b: outB, uniqueCount: unique)
    }
}

/// Builds comparison keys for tokens according to the ignore options.
enum KeyNormalizer {
    /// Keys for a tokenized text; returns the original bytes when no option is set.
    static func keys(_ text: TokenizedText, options: DiffOptions) -> Interner.Keys {
        if !options.ignoreWhitespace && !options.ignoreCase {
            return Interner.Keys(bytes: text.bytes, bounds: text.bounds)
        }
        var out: [UInt8] = []
        out.reserveCapacity(text.bytes.count)
        var bounds = [0]
        bounds.reserveCapacity(text.bounds.count)
        let bytes = text.bytes
        for t in 0..<text.count {
            let lo = text.bounds[t], hi = text.bounds[t + 1]
            var allSpace = true
            var ascii = true
            for i in lo..<hi where bytes[i] >= 0x80 { ascii = false; break }
            if ascii {
                for i in lo..<hi {
                    var c = bytes[i]
                    let isSpace = c == 0x20 || c == 0x09 || c == 0x0D || c == 0x0B || c == 0x0C || c == 0x0A
                    if options.ignoreWhitespace && isSpace { continue }
                    if !isSpace { allSpace = false }
                    if options.ignoreCase && c >= 0x41 && c <= 0x5A { c += 0x20 }
                    out.append(c)
                }
            } else {
                var s = bytes.string(lo..<hi)
                if options.ignoreCase { s = s.lowercased() }
                for u in s.unicodeScalars {
                    if u.properties.isWhitespace {
                        if options.ignoreWhitespace { continue }
                    } else {
                        allSpace = false
                    }
                    out.append(contentsOf: String(u).utf8)
                }
            }
            // A token made only of whitespace keeps one marker byte so it still differs from empty
            // tokens of other kinds (word mode: a space run equals any other space run).
            if options.ignoreWhitespace && allSpace && hi > lo { out.append(0x20) }
            bounds.append(out.count)
        }
        return Interner.Keys(bytes: ByteView(out), bounds: bounds)
    }
}
