import Foundation
import PlexusSDK
import TimetableSolver

/// The life cycle of a job.
enum JobStatus: String, Sendable, Codable {
    /// Waiting for a solver slot (`max_running_jobs`).
    case queued
    /// Solving on a worker thread.
    case running
    /// Finished with a timetable that has no hard violations.
    case succeeded
    /// Finished without a feasible timetable; the result carries an explanation.
    case infeasible
    /// Cancelled; the result holds the best timetable found so far (none if it never ran).
    case cancelled
    /// The solver or re-planner failed; `error` says why.
    case failed

    /// Whether the job will not change any more.
    var isFinished: Bool { self != .queued && self != .running }
}

/// What a job does when it runs.
enum JobWork: Sendable {
    /// Solve the instance from scratch.
    case solve
    /// Re-plan `timetable` (a finished job's result, for `instance`) after `disruptions`.
    case replan(source: String, timetable: Timetable, disruptions: [Disruption])
}

/// The outcome of a finished run, as computed on the worker thread.
struct JobOutcome: Sendable {
    /// The instance the timetable is for (the disrupted one, for re-planning).
    var instance: Instance
    /// The best timetable.
    var timetable: Timetable
    /// Its independent check.
    var report: ValidationReport
    /// Why it is not feasible, if it is not.
    var explanation: InfeasibilityExplanation?
    /// Lectures that moved (re-planning only).
    var changes: [LectureChange]?
    /// Local-search moves tried (nil for re-planning, which does not report them).
    var moves: Int?
    /// Seconds the solve took.
    var elapsed: Double
    /// Why the solver stopped (nil for re-planning).
    var stopReason: StopReason?
    /// Whether the run ended because it was cancelled.
    var wasCancelled: Bool
}

/// The best-so-far numbers a running solve reports from its worker thread.
///
/// The solver's progress callback writes here under a lock; the loop thread only reads. Nothing else is
/// shared between the worker and the plugin's state.
final class ProgressBox: @unchecked Sendable {
    /// One progress report.
    struct Snapshot: Sendable {
        /// Hard violations (unscheduled lectures) of the best timetable so far.
        var hard: Int
        /// Soft cost of the best timetable so far.
        var soft: Int
        /// Seconds into the solve when it was reported.
        var elapsed: Double
        /// How many reports arrived.
        var updates: Int
    }

    private let lock = NSLock()
    private var latest: Snapshot?

    /// Records a report (worker thread).
    func report(hard: Int, soft: Int, elapsed: Double) {
        lock.lock()
        latest = Snapshot(hard: hard, soft: soft, elapsed: elapsed, updates: (latest?.updates ?? 0) + 1)
        lock.unlock()
    }

    /// Sets the latest report (restoring a stored job).
    func restore(_ snapshot: Snapshot) {
        lock.lock()
        latest = snapshot
        lock.unlock()
    }

    /// The latest report, if any (any thread).
    var snapshot: Snapshot? {
        lock.lock(); defer { lock.unlock() }
        return latest
    }
}

/// One timetabling job. Lives on the loop thread (``PluginActor``); the worker sees only the Sendable
/// instance, options, cancellation token and progress box.
@PluginActor
final class Job {
    /// The id used in URLs.
    let id: String
    /// The tenant of the caller that submitted the job ("" for a caller without a tenant). Only callers of
    /// the same tenant see the job; for everyone else it does not exist (404, absent from the list).
    let tenant: String
    /// Order of creation (for listing and for dropping the oldest).
    let sequence: Int
    /// The instance to solve (for re-planning: the source job's instance, before the disruptions).
    let instance: Instance
    /// The format the instance came in.
    let format: InstanceFormat
    /// The solve options.
    let options: JobOptions
    /// What to do.
    let work: JobWork
    /// The instance as submitted (`.ctt` text or school JSON; for re-planning, the source job's), for storage.
    let input: String
    /// When the job was accepted.
    let created: Date
    /// Set when the job starts and ends.
    var started: Date?
    var finished: Date?
    /// Current status.
    var status: JobStatus = .queued
    /// Whether a cancel was requested.
    var cancelRequested = false
    /// The outcome, once finished (nil if cancelled before running, or failed).
    var outcome: JobOutcome?
    /// Why the job failed.
    var failure: String?
    /// Shared with the worker.
    let token = CancellationToken()
    let progress = ProgressBox()
    /// Progress reports already published on the bus (``ProgressBox/Snapshot/updates``).
    var publishedUpdates = 0
    /// On PostgreSQL: this process's monotonic time (s) just before the job's lease was last
    /// stamped by the server (its insert or a renewal); and whether the lease was lost, so the job
    /// stopped here (no further writes or events from this instance).
    var leaseSince = ProcessInfo.processInfo.systemUptime
    var leaseLost = false

    // Restored from storage after a restart (the in-memory outcome is gone then).
    /// The job this one re-planned, for a restored re-planning job.
    var restoredReplanOf: String?
    /// The solve's seconds, for a restored job.
    var storedElapsed: Double?
    /// Whether storage holds a result (JSON and ITC2007 text) for a restored job.
    var hasStoredResult = false
    /// Another instance's job whose stored input does not parse here: `instance` is an empty
    /// stand-in, and the status shows no instance summary.
    var inputUnreadable = false

    init(id: String, tenant: String, sequence: Int, instance: Instance, format: InstanceFormat, options: JobOptions, work: JobWork,
         input: String, created: Date = Date()) {
        self.id = id
        self.tenant = tenant
        self.sequence = sequence
        self.instance = instance
        self.format = format
        self.options = options
        self.work = work
        self.input = input
        self.created = created
    }

    /// The id of the job this one re-plans, if it is a re-planning job.
    var replanSource: String? {
        if case .replan(let source, _, _) = work { return source }
        return restoredReplanOf
    }

    /// Seconds the solve took (live while running), or nil before it started.
    var elapsedSeconds: Double? {
        if let outcome { return outcome.elapsed }
        if let storedElapsed { return storedElapsed }
        if let started { return (finished ?? Date()).timeIntervalSince(started) }
        return nil
    }

    /// Runs the job's work. Blocking and CPU-bound: runs on a worker thread, touching only Sendable values.
    nonisolated static func execute(instance: Instance, options: JobOptions, work: JobWork,
                                    token: CancellationToken, progress: ProgressBox) throws -> JobOutcome {
        switch work {
        case .solve:
            let result = solve(instance, options: options.solverOptions, cancellation: token) { hard, soft, elapsed in
                progress.report(hard: hard, soft: soft, elapsed: elapsed)
            }
            progress.report(hard: result.report.hardViolations, soft: result.report.softCost, elapsed: result.elapsed)
            return JobOutcome(instance: instance, timetable: result.timetable, report: result.report, explanation: result.explanation,
                              changes: nil, moves: result.moves, elapsed: result.elapsed, stopReason: result.stopReason,
                              wasCancelled: result.stopReason == .cancelled)
        case .replan(_, let timetable, let disruptions):
            let start = Date()
            var solverOptions = options.solverOptions
            solverOptions.initialTemperature = 0.5
            let result = try replan(instance, timetable: timetable, disruptions: disruptions, options: solverOptions, cancellation: token)
            let elapsed = Date().timeIntervalSince(start)
            progress.report(hard: result.report.hardViolations, soft: result.report.softCost, elapsed: elapsed)
            return JobOutcome(instance: result.instance, timetable: result.timetable, report: result.report,
                              explanation: result.explanation, changes: result.changes, moves: nil, elapsed: elapsed,
                              stopReason: nil, wasCancelled: token.isCancelled)
        }
    }
}
