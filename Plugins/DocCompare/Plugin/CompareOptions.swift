import DocDiff
import PlexusSDK

/// How the two documents are compared: as plain text, or clause by clause.
enum CompareMode: String, CaseIterable, Sendable {
    /// A token diff of the whole text.
    case plain
    /// A plain diff plus a clause-aware alignment (renumbered or reordered clauses are not changes).
    case clauses
}

/// The representation of the comparison result.
enum OutputFormat: String, CaseIterable, Sendable {
    /// `application/json`: the edit script with statistics and moves.
    case json
    /// `text/x-diff`: a unified diff that GNU `patch` applies.
    case unified
    /// `text/html`: a redline page.
    case html
}

/// The options of a compare or redline request, already validated.
struct CompareOptions: Sendable, Equatable {
    /// Unit of comparison (default `line`).
    var granularity: Granularity = .line
    /// Diff algorithm (default `myers`).
    var algorithm: DiffAlgorithm = .myers
    /// Treat tokens differing only in whitespace as equal.
    var ignoreWhitespace = false
    /// Treat tokens differing only in case as equal.
    var ignoreCase = false
    /// Report moved blocks as moves (default `true`).
    var detectMoves = true
    /// Plain or clause-aware comparison (default `plain`).
    var mode: CompareMode = .plain
    /// Output representation (default `json`).
    var format: OutputFormat = .json

    /// The option names a request may carry, as they appear in JSON bodies and form fields.
    static let fieldNames = ["granularity", "algorithm", "ignore_whitespace", "ignore_case", "detect_moves", "mode", "format"]

    /// The engine options these request options stand for.
    var diffOptions: DiffOptions {
        DiffOptions(granularity: granularity, algorithm: algorithm, ignoreWhitespace: ignoreWhitespace,
                    ignoreCase: ignoreCase, detectMoves: detectMoves)
    }

    /// Sets the option called `field` from its textual value.
    /// - Throws: ``HTTPError/badRequest(_:)`` naming the field and listing the allowed values.
    mutating func set(_ field: String, text value: String) throws {
        switch field {
        case "granularity": granularity = try Self.choice(field, value, Granularity.self)
        case "algorithm": algorithm = try Self.choice(field, value, DiffAlgorithm.self)
        case "mode": mode = try Self.choice(field, value, CompareMode.self)
        case "format": format = try Self.choice(field, value, OutputFormat.self)
        case "ignore_whitespace": ignoreWhitespace = try Self.flag(field, value)
        case "ignore_case": ignoreCase = try Self.flag(field, value)
        case "detect_moves": detectMoves = try Self.flag(field, value)
        default: throw HTTPError.badRequest("unknown field '\(field)'")
        }
    }

    /// Sets the boolean option called `field`.
    mutating func set(_ field: String, bool value: Bool) throws {
        switch field {
        case "ignore_whitespace": ignoreWhitespace = value
        case "ignore_case": ignoreCase = value
        case "detect_moves": detectMoves = value
        default: throw HTTPError.badRequest("field '\(field)' must be a string; allowed: \(Self.allowed(field))")
        }
    }

    /// Whether `field` takes a boolean.
    static func isFlag(_ field: String) -> Bool {
        ["ignore_whitespace", "ignore_case", "detect_moves"].contains(field)
    }

    /// The allowed values of `field`, comma-separated.
    static func allowed(_ field: String) -> String {
        switch field {
        case "granularity": Granularity.allCases.map(\.rawValue).joined(separator: ", ")
        case "algorithm": DiffAlgorithm.allCases.map(\.rawValue).joined(separator: ", ")
        case "mode": CompareMode.allCases.map(\.rawValue).joined(separator: ", ")
        case "format": OutputFormat.allCases.map(\.rawValue).joined(separator: ", ")
        default: "true, false"
        }
    }

    private static func choice<T: RawRepresentable & CaseIterable>(_ field: String, _ value: String, _: T.Type) throws -> T
    where T.RawValue == String {
        if let parsed = T(rawValue: value.lowercased()) { return parsed }
        throw HTTPError.badRequest("field '\(field)': unknown value '\(value)'; allowed: \(allowed(field))")
    }

    private static func flag(_ field: String, _ value: String) throws -> Bool {
        switch value.lowercased() {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: throw HTTPError.badRequest("field '\(field)': unknown value '\(value)'; allowed: true, false")
        }
    }
}
