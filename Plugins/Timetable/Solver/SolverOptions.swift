/// Settings of a solve.
public struct SolverOptions: Sendable, Hashable {
    /// Wall-clock limit in seconds for the whole solve.
    public var timeLimit: Double
    /// Seed of the random generator; the same seed, instance and moves budget give the same result.
    public var seed: UInt64
    /// Optional number of local-search moves per run; when set, the cooling schedule follows the move count
    /// (not the clock), so the result is deterministic as long as the time limit is not reached first.
    public var movesBudget: Int?
    /// Number of independent portfolio runs on separate threads (seeds derived from `seed`); the best wins.
    public var threads: Int
    /// Minimum seconds between two progress callbacks.
    public var progressInterval: Double
    /// Starting temperature of simulated annealing.
    public var initialTemperature: Double
    /// Final temperature of simulated annealing.
    public var finalTemperature: Double

    /// Creates options.
    public init(timeLimit: Double = 10, seed: UInt64 = 1, movesBudget: Int? = nil, threads: Int = 1,
                progressInterval: Double = 0.25, initialTemperature: Double = 2.0, finalTemperature: Double = 0.05) {
        self.timeLimit = timeLimit
        self.seed = seed
        self.movesBudget = movesBudget
        self.threads = threads
        self.progressInterval = progressInterval
        self.initialTemperature = initialTemperature
        self.finalTemperature = finalTemperature
    }
}

/// Why a solve stopped.
public enum StopReason: String, Sendable, Hashable, Codable {
    /// The moves budget was used up.
    case movesBudget
    /// The time limit was reached.
    case timeLimit
    /// The cancellation token was set.
    case cancelled
    /// Nothing left to improve (zero cost, or nothing to move).
    case converged
}

/// Progress callback: hard violations (unscheduled lectures) and soft cost of the best so far, and seconds elapsed.
public typealias ProgressHandler = @Sendable (_ hard: Int, _ soft: Int, _ elapsed: Double) -> Void

/// The outcome of a solve.
public struct SolveResult: Sendable, Hashable {
    /// The best timetable found (lectures that could not be placed are absent).
    public var timetable: Timetable
    /// The independent check of that timetable: hard violations, soft cost, breakdown and violations.
    public var report: ValidationReport
    /// When the timetable is not feasible: the conflicting constraints in words.
    public var explanation: InfeasibilityExplanation?
    /// Local-search moves tried (summed over portfolio runs).
    public var moves: Int
    /// Seconds spent.
    public var elapsed: Double
    /// Why the winning run stopped.
    public var stopReason: StopReason
    /// Seed of the winning run.
    public var seed: UInt64
}
