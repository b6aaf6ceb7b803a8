/// A constraint with its values parsed, kept in plain stored properties (no enum payloads to
/// copy on the evaluation path).
final class CompiledConstraint: Sendable {
    enum Kind: Sendable { case member, memberList, contains, startsWith, number, date, semver }

    let field: ContextSlot
    let kind: Kind
    let op: Constraint.Operator
    let negate: Bool
    let set: Set<String>
    let list: [String]
    let bound: Double
    let version: SemanticVersion?
    /// SEMVER_*: the bound's numbers, and whether it is a release (no pre-release), compared with
    /// a context's plain version without building one.
    let boundMajor: Int, boundMinor: Int, boundPatch: Int
    let boundIsRelease: Bool
    let inverted: Bool
    let source: Constraint

    init(_ constraint: Constraint, label: String) throws {
        source = constraint
        guard let field = FlagContext.Field(constraint.contextName) else {
            throw ValidationError("\(label): unknown context field '\(constraint.contextName.prefix(100))' (use userId, sessionId, remoteAddress, plan, tenant, environment, appVersion, currentTime or properties.<name>)")
        }
        self.field = ContextSlot(field)
        inverted = constraint.inverted ?? false
        let op = constraint.operator
        self.op = op
        negate = op == .notIn
        func values() throws -> [String] {
            guard let values = constraint.values, !values.isEmpty else { throw ValidationError("\(label): \(op.rawValue) needs a non-empty 'values' list") }
            guard values.count <= CompiledFlag.maxValues else { throw ValidationError("\(label): at most \(CompiledFlag.maxValues) values, got \(values.count)") }
            return values
        }
        func single() throws -> String {
            guard let value = constraint.value, !value.isEmpty else { throw ValidationError("\(label): \(op.rawValue) needs a 'value'") }
            return value
        }
        let isDate = op == .dateAfter || op == .dateBefore
        if field == .currentTime && !isDate { throw ValidationError("\(label): currentTime takes DATE_AFTER or DATE_BEFORE only") }
        if isDate && field != .currentTime { throw ValidationError("\(label): \(op.rawValue) applies to currentTime only") }
        var (set, list, bound, version): (Set<String>, [String], Double, SemanticVersion?) = ([], [], 0, nil)
        switch op {
        case .in, .notIn:
            let values = try values()
            // A short list is compared one by one (cheaper than hashing the context's value).
            if values.count <= 16 { (kind, list) = (.memberList, Array(Set(values))) } else { (kind, set) = (.member, Set(values)) }
        case .strContains: (kind, list) = (.contains, try values())
        case .strStartsWith: (kind, list) = (.startsWith, try values())
        case .numEq, .numGt, .numGte, .numLt, .numLte:
            let text = try single()
            guard let number = Double(text), number.isFinite else { throw ValidationError("\(label): \(op.rawValue) needs a number, got '\(text.prefix(40))'") }
            (kind, bound) = (.number, number)
        case .dateAfter, .dateBefore:
            let text = try single()
            guard let date = ISO8601.parse(text) else { throw ValidationError("\(label): \(op.rawValue) needs an ISO 8601 date such as 2026-12-24T00:00:00Z, got '\(text.prefix(40))'") }
            (kind, bound) = (.date, date)
        case .semverEq, .semverGt, .semverLt:
            let text = try single()
            guard let parsed = SemanticVersion(text) else { throw ValidationError("\(label): \(op.rawValue) needs a semantic version such as 2.1.0, got '\(text.prefix(40))'") }
            (kind, version) = (.semver, parsed)
        }
        (self.set, self.list, self.bound, self.version) = (set, list, bound, version)
        (boundMajor, boundMinor, boundPatch) = (version?.major ?? 0, version?.minor ?? 0, version?.patch ?? 0)
        boundIsRelease = version?.prerelease.isEmpty ?? true
    }

    /// Whether `list` holds `value`: a plain loop (the generic `contains` is not specialised across modules).
    @inline(__always)
    static func listed(_ value: String, _ list: [String]) -> Bool {
        for item in list where item == value { return true }
        return false
    }

    /// Whether the constraint holds for `context` at `now` (`scope` given: its tenant and plan replace the context's).
    @inline(__always)
    func holds(_ context: FlagContext, now: Double, _ scope: Scope? = nil) -> Bool {
        let result: Bool
        switch kind {
        case .date:
            let time = context.currentTime ?? now
            result = op == .dateAfter ? time > bound : time < bound
        case .member:
            if let value = field.read(context, scope) { result = set.contains(value) != negate } else { result = negate }
        case .memberList:
            if let value = field.read(context, scope) { result = Self.listed(value, list) != negate } else { result = negate }
        case .contains:
            if let value = field.read(context, scope) { result = list.contains { value.contains($0) } } else { result = false }
        case .startsWith:
            if let value = field.read(context, scope) { result = list.contains { value.hasPrefix($0) } } else { result = false }
        case .number:
            guard let number = field.read(context, scope).flatMap(Double.init) else { result = false; break }
            switch op {
            case .numEq: result = number == bound
            case .numGt: result = number > bound
            case .numGte: result = number >= bound
            case .numLt: result = number < bound
            default: result = number <= bound
            }
        case .semver:
            // The context's own version was read when it was set; a property is read here.
            if field.tag == .appVersion {
                let parsed = context.parsedAppVersion
                switch parsed.form {
                case .plain: result = comparePlain(parsed.major, parsed.minor, parsed.patch)
                case .other: result = compare(context.appVersion)
                case .absent, .invalid: result = false
                }
            } else {
                result = compare(field.read(context, scope))
            }
        }
        return result != inverted
    }

    /// SEMVER_*: a plain `major.minor.patch` against the bound (a release is above its own pre-releases).
    @inline(__always)
    private func comparePlain(_ major: Int, _ minor: Int, _ patch: Int) -> Bool {
        let value = (major, minor, patch), bound = (boundMajor, boundMinor, boundPatch)
        switch op {
        case .semverEq: return value == bound && boundIsRelease
        case .semverGt: return value > bound || (value == bound && !boundIsRelease)
        default: return value < bound
        }
    }

    /// SEMVER_*: any version text against the bound (false when it is not a version).
    private func compare(_ text: String?) -> Bool {
        guard let bound = version, let text, let value = SemanticVersion(text) else { return false }
        switch op {
        case .semverEq: return value == bound
        case .semverGt: return value > bound
        default: return value < bound
        }
    }
}
