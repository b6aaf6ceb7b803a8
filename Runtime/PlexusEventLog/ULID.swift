import Foundation

/// A ULID: a 128-bit identifier made of a 48-bit Unix timestamp in milliseconds followed by
/// 80 random bits, written as 26 Crockford base32 characters.
///
/// ULIDs compare (and their strings sort) by timestamp first, so ids minted by a monotonic
/// ``ULIDGenerator`` sort in the order they were minted.
public struct ULID: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// The high 64 bits: the 48-bit timestamp and the top 16 random bits.
    public let high: UInt64
    /// The low 64 bits of randomness.
    public let low: UInt64

    private static let alphabet: [UInt8] = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    /// Creates a ULID from its two 64-bit halves.
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Creates a ULID from a timestamp (milliseconds since 1970, 48 bits) and 80 random bits
    /// given as the top 16 (`randomHigh`) and the low 64 (`randomLow`).
    public init(milliseconds: UInt64, randomHigh: UInt16, randomLow: UInt64) {
        self.high = (milliseconds & 0xFFFF_FFFF_FFFF) << 16 | UInt64(randomHigh)
        self.low = randomLow
    }

    /// Parses the 26-character Crockford base32 form (case-insensitive; `I`/`L` read as `1`,
    /// `O` as `0`). Returns nil for any other string.
    public init?(_ string: String) {
        let bytes = Array(string.utf8)
        guard bytes.count == 26 else { return nil }
        var hi: UInt64 = 0
        var lo: UInt64 = 0
        for (index, byte) in bytes.enumerated() {
            guard let value = ULID.decode(byte) else { return nil }
            if index == 0 && value > 7 { return nil }  // would overflow 128 bits
            hi = hi << 5 | lo >> 59
            lo = lo << 5 | UInt64(value)
        }
        self.high = hi
        self.low = lo
    }

    /// The smallest ULID whose timestamp is `milliseconds`: every id minted at or after that
    /// millisecond compares greater than or equal to it.
    public static func lowerBound(milliseconds: UInt64) -> ULID {
        ULID(milliseconds: milliseconds, randomHigh: 0, randomLow: 0)
    }

    /// The smallest ULID whose timestamp is the millisecond containing `date`.
    public static func lowerBound(for date: Date) -> ULID {
        lowerBound(milliseconds: UInt64(max(0, (date.timeIntervalSince1970 * 1000).rounded(.down))))
    }

    /// The timestamp part: milliseconds since 1970-01-01 UTC.
    public var milliseconds: UInt64 { high >> 16 }

    /// The timestamp part as a date.
    public var date: Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }

    /// The 26-character Crockford base32 form.
    public var description: String {
        var out = [UInt8](repeating: 0, count: 26)
        for index in 0..<26 {
            let shift = 125 - 5 * index
            let value: UInt64
            if shift >= 64 {
                value = high >> UInt64(shift - 64)
            } else if shift + 5 <= 64 {
                value = low >> UInt64(shift)
            } else {
                value = low >> UInt64(shift) | high << UInt64(64 - shift)
            }
            out[index] = ULID.alphabet[Int(value & 31)]
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Orders by timestamp, then by the random bits.
    public static func < (lhs: ULID, rhs: ULID) -> Bool {
        (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }

    /// Decodes from the 26-character string form.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = ULID(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a ULID: \(text)")
        }
        self = value
    }

    /// Encodes as the 26-character string form.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    private static func decode(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0"), UInt8(ascii: "O"), UInt8(ascii: "o"): return 0
        case UInt8(ascii: "1"), UInt8(ascii: "I"), UInt8(ascii: "i"), UInt8(ascii: "L"), UInt8(ascii: "l"): return 1
        case UInt8(ascii: "2")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        default:
            let upper = byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") ? byte - 32 : byte
            guard let index = alphabet.firstIndex(of: upper) else { return nil }
            return UInt8(index)
        }
    }
}

/// Mints ULIDs that are strictly increasing: within one millisecond (or if the clock steps
/// back) the next id is the previous one plus one, so ids sort in the order they were minted.
/// Thread-safe.
public final class ULIDGenerator: @unchecked Sendable {
    private let lock = NSLock()
    private var last: ULID?
    private let clock: @Sendable () -> Date

    /// Creates a generator reading `clock` for timestamps; every id it mints is greater than
    /// `floor` when given (use the newest stored id to stay monotonic across restarts).
    public init(after floor: ULID? = nil, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.last = floor
        self.clock = clock
    }

    /// Returns the next id: greater than every id this generator returned before.
    public func next() -> ULID {
        let now = UInt64(max(0, (clock().timeIntervalSince1970 * 1000).rounded(.down)))
        lock.lock()
        defer { lock.unlock() }
        let id: ULID
        if let previous = last, previous.milliseconds >= now {
            // Same millisecond (or clock stepped back): increment the 80-bit random part,
            // carrying into the timestamp if it ever overflows.
            let (low, carry) = previous.low.addingReportingOverflow(1)
            id = ULID(high: carry ? previous.high &+ 1 : previous.high, low: low)
        } else {
            var rng = SystemRandomNumberGenerator()
            // Keep the top random bit clear so a burst within one millisecond never carries
            // into the timestamp in practice.
            id = ULID(milliseconds: now, randomHigh: UInt16.random(in: 0...0x7FFF, using: &rng), randomLow: rng.next())
        }
        last = id
        return id
    }
}
