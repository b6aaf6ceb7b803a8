/// Decoding of one path segment of a raw request path.
///
/// Routes match the raw path split at `/`, and only then is each segment decoded, so an
/// escaped slash (`%2F`) stays inside its segment: `/greet/a%2Fb` gives `:name` = `a/b`.
enum PathSegment {
    /// `segment` with its `%XX` escapes decoded; the segment itself when it has none, and nil for
    /// a malformed escape, a decoded NUL or invalid UTF-8.
    static func decode(_ segment: Substring) -> Substring? {
        guard segment.utf8.contains(UInt8(ascii: "%")) else { return segment }
        var out: [UInt8] = []
        out.reserveCapacity(segment.utf8.count)
        var bytes = segment.utf8.makeIterator()
        while let byte = bytes.next() {
            guard byte == UInt8(ascii: "%") else {
                out.append(byte)
                continue
            }
            guard let high = bytes.next().flatMap(hexValue), let low = bytes.next().flatMap(hexValue), high << 4 | low != 0 else { return nil }
            out.append(high << 4 | low)
        }
        return String(validating: out, as: UTF8.self).map { Substring($0) }
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 48...57: byte - 48
        case 65...70: byte - 55
        case 97...102: byte - 87
        default: nil
        }
    }
}
