import Foundation

/// Reads a pack from JSON, validates every field, compiles its patterns and runs its tests.
/// A pack comes back only when all of that passed; otherwise a ``PackError`` names the field or
/// the failing test case.
public enum PackLoader {
    /// The largest pack file accepted.
    public static let maxBytes = 1 << 20

    /// Parses, validates and tests `data`.
    public static func load(_ data: [UInt8]) throws -> RulePack {
        guard data.count <= maxBytes else { throw PackError.syntax("the pack is \(data.count) bytes, more than \(maxBytes)") }
        guard let text = String(validating: data, as: UTF8.self) else { throw PackError.syntax("the pack is not valid UTF-8") }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(data))
        } catch {
            throw PackError.syntax("not valid JSON: \((error as NSError).userInfo[NSDebugDescriptionErrorKey] ?? "\(error)")")
        }
        guard let root = object as? [String: Any] else { throw PackError.syntax("the pack must be a JSON object") }
        let known: Set = ["id", "version", "title", "jurisdiction", "effective", "threshold", "rules", "tests"]
        if let extra = root.keys.sorted().first(where: { !known.contains($0) }) { throw PackError.invalid(extra, "unknown field") }
        let id = try string(root, "id", "id")
        guard id.range(of: "^[a-z0-9][a-z0-9._-]{0,63}$", options: .regularExpression) != nil else {
            throw PackError.invalid("id", "'\(id.prefix(80))' is not a pack id (1 to 64 of a-z, 0-9, '.', '_', '-')")
        }
        guard let version = root["version"] as? Int, version >= 1 else { throw PackError.invalid("version", "must be a positive integer") }
        let effective = root["effective"] as? [String: Any] ?? [:]
        let from = try date(effective["from"], "effective.from") ?? "0000-01-01"
        let until = try date(effective["until"], "effective.until")
        if let until, until < from { throw PackError.invalid("effective.until", "\(until) is before effective.from \(from)") }
        let threshold = (root["threshold"] as? NSNumber)?.doubleValue ?? 0.5
        guard (0...1).contains(threshold) else { throw PackError.invalid("threshold", "must be between 0 and 1") }
        guard let rawRules = root["rules"] as? [[String: Any]], !rawRules.isEmpty else {
            throw PackError.invalid("rules", "must be a non-empty array of rule objects")
        }
        var rules: [Rule] = []
        var ids = Set<String>()
        for (index, raw) in rawRules.enumerated() {
            let rule = try self.rule(raw, at: "rules[\(index)]")
            guard ids.insert(rule.id).inserted else { throw PackError.invalid("rules[\(index)].id", "'\(rule.id)' is used twice") }
            rules.append(rule)
        }
        let rawTests = root["tests"] as? [[String: Any]] ?? []
        guard !rawTests.isEmpty else { throw PackError.invalid("tests", "a pack must carry at least one test case") }
        var tests: [PackTestCase] = []
        for (index, raw) in rawTests.enumerated() {
            let place = "tests[\(index)]"
            let name = try string(raw, "name", place + ".name")
            let entities = try (raw["entities"] as? [String] ?? []).map { value -> EntityType in
                guard let type = EntityType(rawValue: value) else { throw PackError.invalid(place + ".entities", "unknown entity type '\(value)'") }
                return type
            }
            let violations = raw["violations"] as? [String] ?? []
            for v in violations where !ids.contains(v) { throw PackError.invalid(place + ".violations", "no rule '\(v)' in this pack") }
            tests.append(PackTestCase(name: name, text: try string(raw, "text", place + ".text"), entities: entities,
                                      violations: violations, ageDays: raw["age_days"] as? Int))
        }
        let pack = RulePack(id: id, version: version, title: root["title"] as? String ?? id,
                            jurisdiction: root["jurisdiction"] as? String ?? "", effectiveFrom: from, effectiveUntil: until,
                            threshold: threshold, rules: rules, tests: tests, source: text)
        try runTests(pack)
        return pack
    }

    /// Runs every test case of `pack`; throws naming the first that fails and how.
    public static func runTests(_ pack: RulePack) throws {
        for test in pack.tests {
            let result = PackChecker.check(test.text, packs: [pack], ageDays: test.ageDays ?? 0)
            let found = result.entities.map(\.type.rawValue).sorted()
            let expected = test.entities.map(\.rawValue).sorted()
            let violated = Set(result.violations.map(\.rule)).sorted()
            let wanted = Set(test.violations).sorted()
            if found != expected || violated != wanted {
                throw PackError(kind: .failingTest, location: "tests[\"\(test.name)\"]",
                                reason: "expected entities \(expected) and violations \(wanted), got entities \(found) and violations \(violated)")
            }
        }
    }

    static func string(_ object: [String: Any], _ key: String, _ place: String) throws -> String {
        guard let value = object[key] as? String, !value.isEmpty else { throw PackError.invalid(place, "must be a non-empty string") }
        return value
    }

    static func date(_ value: Any?, _ place: String) throws -> String? {
        guard let value, !(value is NSNull) else { return nil }
        guard let text = value as? String, text.range(of: "^[0-9]{4}-[0-9]{2}-[0-9]{2}$", options: .regularExpression) != nil else {
            throw PackError.invalid(place, "must be a date YYYY-MM-DD")
        }
        return text
    }

    static func severity(_ raw: [String: Any], _ place: String) throws -> Severity {
        guard let text = raw["severity"] as? String else { return .medium }
        guard let value = Severity(rawValue: text) else { throw PackError.invalid(place + ".severity", "'\(text)' is not one of low, medium, high, critical") }
        return value
    }

    static func pattern(_ raw: [String: Any], _ key: String, _ place: String) throws -> Pattern {
        let source = try string(raw, key, "\(place).\(key)")
        do { return try Pattern(source) } catch let error as PatternError {
            throw PackError(kind: .pattern, location: "\(place).\(key)", reason: error.description)
        }
    }

    static func rule(_ raw: [String: Any], at place: String) throws -> Rule {
        let id = try string(raw, "id", place + ".id")
        let kind = try string(raw, "kind", place + ".kind")
        let severity = try severity(raw, place)
        let message = raw["message"] as? String ?? id
        switch kind {
        case "personal_data":
            let name = try string(raw, "entity", place + ".entity")
            guard let entity = EntityType(rawValue: name) else {
                throw PackError.invalid(place + ".entity", "unknown entity type '\(name)'; known: \(EntityType.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let minScore = (raw["min_score"] as? NSNumber)?.doubleValue
            return .personalData(id: id, entity: entity, severity: severity, minScore: minScore)
        case "required_clause":
            return .requiredClause(id: id, pattern: try pattern(raw, "pattern", place), severity: severity, message: message)
        case "forbidden":
            return .forbidden(id: id, pattern: try pattern(raw, "pattern", place), severity: severity, message: message)
        case "value":
            guard let minimum = raw["min"] as? Int, minimum >= 0 else { throw PackError.invalid(place + ".min", "must be a non-negative integer") }
            let unitName = raw["unit"] as? String ?? "days"
            guard let unit = DurationUnit(rawValue: unitName) else { throw PackError.invalid(place + ".unit", "'\(unitName)' is not days, weeks, months or years") }
            return .value(id: id, clause: try pattern(raw, "clause", place), unit: unit, minimum: minimum, severity: severity, message: message)
        case "retention":
            guard let days = raw["max_age_days"] as? Int, days >= 0 else { throw PackError.invalid(place + ".max_age_days", "must be a non-negative integer") }
            return .retention(id: id, maxAgeDays: days, severity: severity, message: message)
        default:
            throw PackError.invalid(place + ".kind", "'\(kind)' is not personal_data, required_clause, forbidden, value or retention")
        }
    }
}
