/// One detected entity in code point offsets, before a pack names its rule.
public struct Detection: Sendable, Equatable, Codable {
    public var type: EntityType
    /// First code point.
    public var start: Int
    /// One past the last code point.
    public var end: Int
    public var score: Double
}

/// The recognisers behind one call: scan, threshold, overlaps, code point offsets.
public enum PIIDetector {
    /// Entities of `types` in `text` scoring at least `threshold`, sorted by start, without overlaps.
    public static func detect(_ text: String, types: Set<EntityType> = Set(EntityType.allCases), threshold: Double = 0.5) -> [Detection] {
        var copy = text
        return copy.withUTF8 { bytes in detect(bytes, types: types, threshold: threshold) }
    }

    /// The same over UTF-8 bytes (already validated).
    public static func detect(_ bytes: Bytes, types: Set<EntityType> = Set(EntityType.allCases), threshold: Double = 0.5) -> [Detection] {
        let matches = Recognition.resolve(PIIScanner.candidates(bytes, types: types), threshold: threshold)
            .filter { types.contains($0.type) }
        var map = OffsetMap(bytes)
        return matches.map { match in
            let start = map.scalarOffset(ofByte: match.start)
            let end = map.scalarOffset(ofByte: match.end)
            return Detection(type: match.type, start: start, end: end, score: (match.score * 100).rounded() / 100)
        }
    }
}
