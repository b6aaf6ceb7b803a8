/// ASCII case-insensitive comparison of bytes from the wire (header names, tokens, schemes) with
/// each other or with a literal, in plain loops: these run several times for every request, and
/// generic algorithms over `zip` allocate when they are not specialised.
///
/// Letters compare by their lower-case form (`| 0x20`), as HTTP field names and tokens do; the
/// bytes compared are tokens the parser already checked.
enum ASCIICase {
    /// Whether `a` and `b` are the same bytes, ignoring ASCII case.
    static func equal(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        a.count == b.count && hasPrefix(a, b)
    }

    /// Whether `bytes` equal `literal`, ignoring ASCII case.
    static func equal(_ bytes: UnsafeRawBufferPointer, _ literal: StaticString) -> Bool {
        equal(bytes, raw(literal))
    }

    /// Whether `bytes` begin with `prefix`, ignoring ASCII case.
    static func hasPrefix(_ bytes: UnsafeRawBufferPointer, _ prefix: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count >= prefix.count else { return false }
        var index = 0
        while index < prefix.count {
            if bytes[index] | 0x20 != prefix[index] | 0x20 { return false }
            index += 1
        }
        return true
    }

    /// Whether `bytes` begin with `literal`, ignoring ASCII case.
    static func hasPrefix(_ bytes: UnsafeRawBufferPointer, _ literal: StaticString) -> Bool {
        hasPrefix(bytes, raw(literal))
    }

    private static func raw(_ literal: StaticString) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount)
    }
}
