/// Converts UTF-8 byte offsets into Unicode code point offsets.
///
/// Queries must come in non-decreasing byte order (as sorted matches do); each one costs the
/// bytes walked since the previous query, so converting every match of a text is linear.
public struct OffsetMap {
    private let bytes: Bytes
    private var byte = 0
    private var scalar = 0

    /// Starts at offset 0 of `bytes`.
    public init(_ bytes: Bytes) { self.bytes = bytes }

    /// The code point offset of byte offset `target` (at a scalar boundary, or the scalar holding it).
    public mutating func scalarOffset(ofByte target: Int) -> Int {
        if target < byte { byte = 0; scalar = 0 }
        while byte < target && byte < bytes.count {
            if bytes[byte] & 0xC0 != 0x80 { scalar += 1 }
            byte += 1
        }
        // Landed inside a multi-byte scalar: the leader was already counted.
        return scalar
    }
}

extension String {
    /// This text's scalars from code point `start` up to `end` (clamped).
    public func scalarSlice(_ start: Int, _ end: Int) -> String {
        var out = String.UnicodeScalarView()
        var index = 0
        for scalar in unicodeScalars {
            if index >= end { break }
            if index >= start { out.append(scalar) }
            index += 1
        }
        return String(out)
    }
}
