/// The personal-data entity types the recognisers find (the names clients see).
public enum EntityType: String, Codable, Sendable, CaseIterable, Comparable {
    case email = "EMAIL"
    case phone = "PHONE"
    case dateOfBirth = "DATE_OF_BIRTH"
    case url = "URL"
    case usSSN = "US_SSN"
    case ipAddress = "IP_ADDRESS"
    case iban = "IBAN"
    case creditCard = "CREDIT_CARD"

    /// The rule id a pack uses for this type by default (`pii.email`, `pii.us_ssn`, …).
    public var defaultRuleID: String { "pii." + rawValue.lowercased() }

    public static func < (lhs: EntityType, rhs: EntityType) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// One recognised entity in UTF-8 byte offsets (the scanners' unit); see ``OffsetMap`` for code points.
public struct ByteMatch: Sendable, Equatable {
    /// What was recognised.
    public var type: EntityType
    /// First byte.
    public var start: Int
    /// One past the last byte.
    public var end: Int
    /// Confidence from 0 to 1 after validation and context.
    public var score: Double

    /// Creates a match.
    public init(type: EntityType, start: Int, end: Int, score: Double) {
        self.type = type
        self.start = start
        self.end = end
        self.score = score
    }
}

/// One recognised entity as clients see it: offsets in Unicode code points, end exclusive.
public struct Entity: Codable, Sendable, Equatable {
    public var type: EntityType
    public var start: Int
    public var end: Int
    public var score: Double
    /// The rule that reported it (`pii.email`).
    public var rule: String
    /// The pack that holds the rule (`gdpr@2`).
    public var pack: String

    /// Creates an entity.
    public init(type: EntityType, start: Int, end: Int, score: Double, rule: String, pack: String) {
        self.type = type
        self.start = start
        self.end = end
        self.score = score
        self.rule = rule
        self.pack = pack
    }
}
