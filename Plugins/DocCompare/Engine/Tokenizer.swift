#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A text split into tokens: the UTF-8 bytes plus token boundaries (byte offsets).
public struct TokenizedText: Sendable, Equatable {
    /// The UTF-8 bytes of the whole text.
    public let bytes: ByteView
    /// `count + 1` ascending byte offsets; token `i` is `bytes[bounds[i]..<bounds[i+1]]`.
    public let bounds: [Int]

    /// Creates a tokenized text from bytes and boundaries.
    public init(bytes: [UInt8], bounds: [Int]) {
        self.init(bytes: ByteView(bytes), bounds: bounds)
    }

    /// Creates a tokenized text from bytes read in place and boundaries.
    public init(bytes: ByteView, bounds: [Int]) {
        self.bytes = bytes
        self.bounds = bounds
    }

    /// Tokenizes `bytes` (valid UTF-8) at the given granularity.
    public init(bytes: [UInt8], granularity: Granularity) {
        self.init(bytes: ByteView(bytes), granularity: granularity)
    }

    /// Tokenizes `bytes` (valid UTF-8, read in place) at the given granularity.
    public init(bytes: ByteView, granularity: Granularity) {
        self.bytes = bytes
        self.bounds = Tokenizer.bounds(bytes, granularity: granularity)
    }

    /// Number of tokens.
    public var count: Int { bounds.count - 1 }

    /// The byte range covered by the tokens in `range`.
    public func byteRange(_ range: Range<Int>) -> Range<Int> { bounds[range.lowerBound]..<bounds[range.upperBound] }

    /// The text of the tokens in `range`.
    public func text(_ range: Range<Int>) -> String {
        bytes.string(byteRange(range))
    }

    /// The text of token `i`.
    public func token(_ i: Int) -> String { text(i..<(i + 1)) }
}

/// Splits UTF-8 text into tokens.
enum Tokenizer {
    /// Token boundaries for the given granularity.
    static func bounds(_ bytes: ByteView, granularity: Granularity) -> [Int] {
        switch granularity {
        case .line: return lineBounds(bytes)
        case .word: return wordBounds(bytes)
        case .character: return characterBounds(bytes)
        }
    }

    /// Lines split after each 0x0A byte; a final line without newline is its own token.
    static func lineBounds(_ bytes: ByteView) -> [Int] {
        var bounds: [Int] = []
        bounds.reserveCapacity(bytes.count / 40 + 2)
        bounds.append(0)
        bytes.withUnsafeBufferPointer { buf in
            guard let base = buf.baseAddress else { return }
            let n = buf.count
            var pos = 0
            while pos < n {
                guard let hit = memchr(base + pos, 0x0A, n - pos) else { bounds.append(n); return }
                let idx = UnsafeRawPointer(hit) - UnsafeRawPointer(base)
                pos = idx + 1
                bounds.append(pos)
            }
        }
        return bounds
    }

    /// Character class used for word splitting.
    enum WordClass { case word, space, newline, other }

    static func wordClass(_ s: Unicode.Scalar) -> WordClass {
        let v = s.value
        if v < 0x80 {
            if v == 0x0A { return .newline }
            if v == 0x20 || v == 0x09 || v == 0x0D || v == 0x0B || v == 0x0C { return .space }
            if (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A) || v == 0x5F { return .word }
            return .other
        }
        let p = s.properties
        if p.isWhitespace { return .space }
        if p.isAlphabetic || p.numericType != nil || p.generalCategory == .nonspacingMark
            || p.generalCategory == .spacingMark { return .word }
        return .other
    }

    /// Words (letters, digits, underscore and combining marks), runs of horizontal whitespace,
    /// single newlines, and single other characters.
    static func wordBounds(_ bytes: ByteView) -> [Int] {
        var bounds = [0]
        var offset = 0
        var prev: WordClass? = nil
        var it = bytes.base.makeIterator()
        var decoder = UTF8()
        loop: while true {
            switch decoder.decode(&it) {
            case .scalarValue(let s):
                let cls = wordClass(s)
                let len = UTF8.width(s)
                if offset > 0 {
                    let joins = cls == prev && (cls == .word || cls == .space)
                    if !joins { bounds.append(offset) }
                }
                prev = cls
                offset += len
            case .emptyInput: break loop
            case .error:
                // Not reachable for validated input; treat the byte as its own token.
                if offset > 0 { bounds.append(offset) }
                prev = .other
                offset += 1
            }
        }
        if offset > 0 { bounds.append(offset) }
        return bounds
    }

    /// Extended grapheme clusters.
    static func characterBounds(_ bytes: ByteView) -> [Int] {
        let s = bytes.string
        var bounds = [0]
        bounds.reserveCapacity(bytes.count + 1)
        var offset = 0
        for ch in s {
            offset += ch.utf8.count
            bounds.append(offset)
        }
        return bounds
    }
}
