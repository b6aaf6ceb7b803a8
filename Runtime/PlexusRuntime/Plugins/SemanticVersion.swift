/// A semantic version `MAJOR.MINOR.PATCH[-prerelease][+build]`.
public struct SemanticVersion: Comparable, Hashable, Sendable, CustomStringConvertible {
    public let major: Int
    public let minor: Int
    public let patch: Int
    public let prerelease: String

    /// Parses a version; missing minor/patch count as 0 only when `lenient` (used inside ranges).
    public init?(_ text: Substring, lenient: Bool = false) {
        var core = text
        if let plus = core.firstIndex(of: "+") { core = core[..<plus] }
        var pre = ""
        if let dash = core.firstIndex(of: "-") {
            pre = String(core[core.index(after: dash)...])
            core = core[..<dash]
        }
        let parts = core.split(separator: ".", omittingEmptySubsequences: false)
        guard (lenient ? 1...3 : 3...3).contains(parts.count) else { return nil }
        var numbers: [Int] = []
        for part in parts {
            guard !part.isEmpty, part.allSatisfy(\.isASCII), let value = Int(part), value >= 0 else { return nil }
            numbers.append(value)
        }
        while numbers.count < 3 { numbers.append(0) }
        (major, minor, patch, prerelease) = (numbers[0], numbers[1], numbers[2], pre)
    }

    /// Parses a full version.
    public init?(_ text: String) { self.init(text[...]) }

    public init(_ major: Int, _ minor: Int, _ patch: Int) {
        (self.major, self.minor, self.patch, self.prerelease) = (major, minor, patch, "")
    }

    public static func < (lhs: SemanticVersion, rhs: SemanticVersion) -> Bool {
        if (lhs.major, lhs.minor, lhs.patch) != (rhs.major, rhs.minor, rhs.patch) {
            return (lhs.major, lhs.minor, lhs.patch) < (rhs.major, rhs.minor, rhs.patch)
        }
        // A pre-release sorts before its release.
        if lhs.prerelease.isEmpty != rhs.prerelease.isEmpty { return !lhs.prerelease.isEmpty }
        return lhs.prerelease < rhs.prerelease
    }

    public var description: String {
        "\(major).\(minor).\(patch)" + (prerelease.isEmpty ? "" : "-\(prerelease)")
    }
}

/// A version range as written in a dependency: space-separated comparators that must all hold
/// (`>=1.2.0 <2.0.0`), caret (`^1.2`), tilde (`~1.2.3`), an exact version, or `*`.
public struct VersionRange: Sendable, CustomStringConvertible {
    private enum Op { case eq, lt, le, gt, ge }
    private let comparators: [(Op, SemanticVersion)]
    public let description: String

    /// Parses `text`, or returns `nil` when it is not a range this runtime understands.
    public init?(_ text: String) {
        description = text
        var comparators: [(Op, SemanticVersion)] = []
        for token in text.split(separator: " ") where token != "*" {
            if token.hasPrefix("^") {
                guard let base = SemanticVersion(token.dropFirst(), lenient: true) else { return nil }
                let upper = base.major > 0 ? SemanticVersion(base.major + 1, 0, 0)
                    : base.minor > 0 ? SemanticVersion(0, base.minor + 1, 0) : SemanticVersion(0, 0, base.patch + 1)
                comparators += [(.ge, base), (.lt, upper)]
            } else if token.hasPrefix("~") {
                guard let base = SemanticVersion(token.dropFirst(), lenient: true) else { return nil }
                comparators += [(.ge, base), (.lt, SemanticVersion(base.major, base.minor + 1, 0))]
            } else {
                let ops: [(String, Op)] = [(">=", .ge), ("<=", .le), (">", .gt), ("<", .lt), ("=", .eq)]
                let (prefix, op) = ops.first { token.hasPrefix($0.0) } ?? ("", .eq)
                guard let version = SemanticVersion(token.dropFirst(prefix.count), lenient: true) else { return nil }
                comparators.append((op, version))
            }
        }
        self.comparators = comparators
    }

    /// Whether `version` satisfies every comparator.
    public func contains(_ version: SemanticVersion) -> Bool {
        comparators.allSatisfy { op, bound in
            switch op {
            case .eq: version == bound
            case .lt: version < bound
            case .le: version <= bound
            case .gt: version > bound
            case .ge: version >= bound
            }
        }
    }
}
