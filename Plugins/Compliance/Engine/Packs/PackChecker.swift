import Foundation

/// A span of a finding in code points, end exclusive.
public struct Span: Codable, Sendable, Equatable {
    public var start: Int
    public var end: Int

    /// Creates a span.
    public init(start: Int, end: Int) {
        self.start = start
        self.end = end
    }
}

/// A broken rule.
public struct Violation: Codable, Sendable, Equatable {
    public var rule: String
    public var pack: String
    public var severity: Severity
    public var message: String
    public var span: Span?

    /// Creates a violation.
    public init(rule: String, pack: String, severity: Severity, message: String, span: Span?) {
        self.rule = rule
        self.pack = pack
        self.severity = severity
        self.message = message
        self.span = span
    }
}

/// What one check found.
public struct CheckResult: Codable, Sendable {
    public var entities: [Entity]
    public var violations: [Violation]
    /// The packs applied (`gdpr@2`).
    public var packs: [String]
}

/// The findings of one clause, relative to the clause's start: what a re-check carries forward
/// for a clause whose text did not change.
public struct ClauseFindings: Codable, Sendable {
    /// SHA-free fingerprint of the clause text (its length and FNV-1a hash).
    public var fingerprint: String
    /// Length in code points.
    public var length: Int
    public var entities: [Entity]
    public var violations: [Violation]
    /// `pack@version/rule` of the required-clause rules this clause satisfies.
    public var satisfies: [String]
}

/// Checks text against packs clause by clause, so a changed document needs only its changed
/// clauses checked again.
public enum PackChecker {
    /// Checks the whole of `text`.
    public static func check(_ text: String, packs: [RulePack], ageDays: Int = 0) -> CheckResult {
        let clauses = ClauseUnits.split(text).map { checkClause($0, packs: packs) }
        return assemble(clauses, packs: packs, ageDays: ageDays)
    }

    /// Checks `text` reusing `previous` findings of clauses with the same fingerprint.
    /// - Returns: the result, the clause findings to keep for the next version, and how many clauses were checked afresh.
    public static func recheck(_ text: String, previous: [ClauseFindings], packs: [RulePack], ageDays: Int = 0)
        -> (result: CheckResult, clauses: [ClauseFindings], checked: Int) {
        var known: [String: ClauseFindings] = [:]
        for clause in previous { known[clause.fingerprint] = clause }
        var checked = 0
        let clauses = ClauseUnits.split(text).map { clause -> ClauseFindings in
            if let carried = known[ClauseUnits.fingerprint(clause)] { return carried }
            checked += 1
            return checkClause(clause, packs: packs)
        }
        return (assemble(clauses, packs: packs, ageDays: ageDays), clauses, checked)
    }

    /// The findings of one clause (offsets relative to it).
    public static func checkClause(_ clause: String, packs: [RulePack]) -> ClauseFindings {
        let types = packs.reduce(into: Set<EntityType>()) { $0.formUnion($1.entityTypes) }
        let lowest = packs.map(\.threshold).min() ?? 0.5
        let detections = types.isEmpty ? [] : PIIDetector.detect(clause, types: types, threshold: lowest)
        let scalars = Array(clause.lowercased().unicodeScalars)
        var entities: [Entity] = []
        var violations: [Violation] = []
        var satisfies: [String] = []
        var reported = Set<String>()
        for pack in packs {
            for rule in pack.rules {
                switch rule {
                case .personalData(let id, let entity, _, let minScore):
                    for d in detections where d.type == entity && d.score >= max(pack.threshold, minScore ?? 0) {
                        if reported.insert("\(d.type.rawValue):\(d.start)").inserted {
                            entities.append(Entity(type: d.type, start: d.start, end: d.end, score: d.score, rule: id, pack: pack.reference))
                        }
                    }
                case .requiredClause(let id, let pattern, _, _):
                    if pattern.isFound(in: scalars) { satisfies.append("\(pack.reference)/\(id)") }
                case .forbidden(let id, let pattern, let severity, let message):
                    for range in pattern.matches(in: scalars, limit: 100) {
                        violations.append(Violation(rule: id, pack: pack.reference, severity: severity, message: message,
                                                    span: Span(start: range.lowerBound, end: range.upperBound)))
                    }
                case .value(let id, let clausePattern, let unit, let minimum, let severity, let message):
                    guard clausePattern.isFound(in: scalars) else { continue }
                    for found in ValueReader.durations(in: scalars) where found.days < minimum * unit.days {
                        violations.append(Violation(rule: id, pack: pack.reference, severity: severity,
                                                    message: "\(message) (found \(found.written), at least \(minimum) \(unit.rawValue) required)",
                                                    span: found.span))
                    }
                case .retention:
                    continue
                }
            }
        }
        return ClauseFindings(fingerprint: ClauseUnits.fingerprint(clause), length: clause.unicodeScalars.count,
                              entities: entities, violations: violations, satisfies: satisfies)
    }

    /// The document's result from its clauses' findings: offsets made absolute, required clauses
    /// that no clause satisfies, and retention.
    public static func assemble(_ clauses: [ClauseFindings], packs: [RulePack], ageDays: Int) -> CheckResult {
        var entities: [Entity] = []
        var violations: [Violation] = []
        var satisfied = Set<String>()
        var offset = 0
        for clause in clauses {
            for var e in clause.entities { e.start += offset; e.end += offset; entities.append(e) }
            for var v in clause.violations {
                if let span = v.span { v.span = Span(start: span.start + offset, end: span.end + offset) }
                violations.append(v)
            }
            satisfied.formUnion(clause.satisfies)
            offset += clause.length
        }
        for pack in packs {
            for case .requiredClause(let id, _, let severity, let message) in pack.rules where !satisfied.contains("\(pack.reference)/\(id)") {
                violations.append(Violation(rule: id, pack: pack.reference, severity: severity, message: message, span: nil))
            }
        }
        return addingRetention(CheckResult(entities: entities, violations: violations, packs: packs.map(\.reference)), packs: packs, ageDays: ageDays)
    }

    /// `result` with a violation of each retention rule of `packs` whose limit `ageDays` exceeds
    /// while the result holds personal data reported by that pack (once per rule).
    public static func addingRetention(_ result: CheckResult, packs: [RulePack], ageDays: Int) -> CheckResult {
        var result = result
        for pack in packs {
            for case .retention(let id, let maxAge, let severity, let message) in pack.rules
            where ageDays > maxAge && !result.violations.contains(where: { $0.rule == id && $0.pack == pack.reference })
                && result.entities.contains(where: { $0.pack == pack.reference }) {
                result.violations.append(Violation(rule: id, pack: pack.reference, severity: severity,
                                                   message: "\(message) (document is \(ageDays) days old, limit \(maxAge))", span: nil))
            }
        }
        return result
    }
}
