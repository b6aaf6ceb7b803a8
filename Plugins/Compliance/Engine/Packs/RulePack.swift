import Foundation

/// How bad a violation is; alerts go out by severity.
public enum Severity: String, Codable, Sendable, Comparable, CaseIterable {
    case low, medium, high, critical
    var rank: Int { Self.allCases.firstIndex(of: self)! }
    public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
}

/// One rule of a pack.
public enum Rule: Sendable {
    /// Report entities of a type (a personal-data recogniser).
    case personalData(id: String, entity: EntityType, severity: Severity, minScore: Double?)
    /// A clause matching `pattern` must exist somewhere in the document.
    case requiredClause(id: String, pattern: Pattern, severity: Severity, message: String)
    /// A term or clause matching `pattern` must not appear.
    case forbidden(id: String, pattern: Pattern, severity: Severity, message: String)
    /// In each clause matching `clause`, a number of `unit`s must be at least `minimum`.
    case value(id: String, clause: Pattern, unit: DurationUnit, minimum: Int, severity: Severity, message: String)
    /// Documents older than `maxAgeDays` must not hold personal data.
    case retention(id: String, maxAgeDays: Int, severity: Severity, message: String)

    /// The rule's id.
    public var id: String {
        switch self {
        case .personalData(let id, _, _, _), .requiredClause(let id, _, _, _), .forbidden(let id, _, _, _),
             .value(let id, _, _, _, _, _), .retention(let id, _, _, _): id
        }
    }
}

/// Units of a value rule, converted to days.
public enum DurationUnit: String, Codable, Sendable {
    case days, weeks, months, years
    var days: Int { switch self { case .days: 1; case .weeks: 7; case .months: 30; case .years: 365 } }
}

/// A test case a pack carries: input text and the findings it must produce.
public struct PackTestCase: Codable, Sendable {
    public var name: String
    public var text: String
    /// Entity types expected, one per entity (order does not matter).
    public var entities: [EntityType]
    /// Rule ids expected to be violated (order does not matter).
    public var violations: [String]
    /// The document's age in days (for retention rules), default 0.
    public var ageDays: Int?
}

/// A versioned rule pack: id, jurisdiction, effective dates, threshold, rules and tests.
public struct RulePack: Sendable {
    public var id: String
    public var version: Int
    public var title: String
    public var jurisdiction: String
    /// First day the pack applies (`YYYY-MM-DD`).
    public var effectiveFrom: String
    /// Last day it applies, nil while in force.
    public var effectiveUntil: String?
    /// Entities scoring below it are not reported.
    public var threshold: Double
    public var rules: [Rule]
    public var tests: [PackTestCase]
    /// The pack file as uploaded (what `GET` returns).
    public var source: String

    /// `id@version`, as findings name the pack.
    public var reference: String { "\(id)@\(version)" }

    /// The entity types the pack's personal-data rules report.
    public var entityTypes: Set<EntityType> {
        Set(rules.compactMap { if case .personalData(_, let entity, _, _) = $0 { entity } else { nil } })
    }

    /// Whether the pack is in force on `day` (`YYYY-MM-DD`; ISO dates compare as text).
    public func isEffective(on day: String) -> Bool {
        effectiveFrom <= day && (effectiveUntil.map { day <= $0 } ?? true)
    }
}
