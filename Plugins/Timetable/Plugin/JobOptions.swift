import Foundation
import TimetableSolver

/// The solve options of a job, validated against the plugin's limits.
///
/// Fields (JSON body members or query parameters): `time_limit_seconds` (number, > 0 and at most the
/// configured `max_time_limit_seconds`), `seed` (integer ≥ 0), `moves_budget` (integer 1…1e10, optional),
/// `threads` (1 or 2, at most the configured `max_threads`).
struct JobOptions: Sendable, Codable, Equatable {
    /// Wall-clock limit of the solve, in seconds.
    var timeLimitSeconds: Double
    /// Random seed.
    var seed: UInt64
    /// Optional number of local-search moves (makes the result deterministic unless the time limit hits first).
    var movesBudget: Int?
    /// Portfolio runs on separate threads.
    var threads: Int

    /// The option names a request may carry.
    static let fieldNames = ["time_limit_seconds", "seed", "moves_budget", "threads"]
    /// The largest moves budget accepted.
    static let maxMovesBudget = 10_000_000_000

    /// The solver's options for these.
    var solverOptions: SolverOptions {
        SolverOptions(timeLimit: timeLimitSeconds, seed: seed, movesBudget: movesBudget, threads: threads)
    }

    /// Defaults from `limits`.
    init(limits: JobLimits, timeLimitSeconds: Double? = nil) {
        self.timeLimitSeconds = timeLimitSeconds ?? limits.defaultTimeLimitSeconds
        seed = 1
        movesBudget = nil
        threads = 1
    }

    /// Sets `field` from a JSON value (a number, or a numeric string; `null` clears `moves_budget`).
    /// - Throws: ``TimetableProblem/badOption(_:_:)`` naming the field and its allowed range.
    mutating func set(_ field: String, json value: JSONValue, limits: JobLimits) throws {
        switch value {
        case .null where field == "moves_budget": movesBudget = nil
        case .number(let number): try set(field, number: number, limits: limits)
        case .string(let text): try set(field, text: text, limits: limits)
        default: throw TimetableProblem.badOption(field, "must be a number, found \(value.typeName); \(Self.allowed(field, limits))")
        }
    }

    /// Sets `field` from text (a query parameter).
    mutating func set(_ field: String, text: String, limits: JobLimits) throws {
        guard let number = Double(text.trimmingCharacters(in: .whitespaces)) else {
            throw TimetableProblem.badOption(field, "'\(text)' is not a number; \(Self.allowed(field, limits))")
        }
        try set(field, number: number, limits: limits)
    }

    private mutating func set(_ field: String, number: Double, limits: JobLimits) throws {
        let bad = { TimetableProblem.badOption(field, "\(Self.format(number)) is out of range; \(Self.allowed(field, limits))") }
        guard number.isFinite else { throw bad() }
        switch field {
        case "time_limit_seconds":
            guard number > 0, number <= limits.maxTimeLimitSeconds else { throw bad() }
            timeLimitSeconds = number
        case "seed":
            guard number >= 0, number < 9.0e15, number.rounded() == number else { throw bad() }
            seed = UInt64(number)
        case "moves_budget":
            guard number >= 1, number <= Double(Self.maxMovesBudget), number.rounded() == number else { throw bad() }
            movesBudget = Int(number)
        case "threads":
            guard number.rounded() == number, number >= 1, number <= Double(limits.maxThreads) else { throw bad() }
            threads = Int(number)
        default:
            throw TimetableProblem.badOption(field, "unknown option; allowed: \(Self.fieldNames.joined(separator: ", "))")
        }
    }

    /// The allowed values of `field`, in words.
    static func allowed(_ field: String, _ limits: JobLimits) -> String {
        switch field {
        case "time_limit_seconds": "allowed: a number of seconds greater than 0 and at most \(format(limits.maxTimeLimitSeconds))"
        case "seed": "allowed: an integer from 0 to 9000000000000000"
        case "moves_budget": "allowed: an integer from 1 to \(maxMovesBudget), or null"
        case "threads": "allowed: an integer from 1 to \(limits.maxThreads)"
        default: "allowed fields: \(fieldNames.joined(separator: ", "))"
        }
    }

    private static func format(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}

/// The plugin's limits on jobs, from its configuration.
struct JobLimits: Sendable {
    /// Default solve time when a request gives none (config `default_time_limit_seconds`, default 10).
    var defaultTimeLimitSeconds: Double = 10
    /// Largest accepted `time_limit_seconds` (config `max_time_limit_seconds`, default 300).
    var maxTimeLimitSeconds: Double = 300
    /// Largest accepted `threads` (config `max_threads`, default 2).
    var maxThreads = 2
    /// Bounds on an instance's numbers and on its model's estimated memory (config `max_model_megabytes`,
    /// default 512); an instance beyond them is refused with 422 before anything is sized from it.
    var instance = InstanceLimits.standard
}
