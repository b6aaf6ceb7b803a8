import Foundation
import PlexusSDK
import TimetableSolver

/// Keeps the jobs in memory, runs at most `maxRunning` at a time on the runtime's thread pool, and
/// queues the rest in arrival order.
///
/// Jobs are not persisted (the runtime has no storage yet): a restart forgets them. At most `maxJobs` are
/// kept; a new job evicts the oldest finished one, and is refused (503) when every kept job is still
/// queued or running.
@PluginActor
final class JobManager {
    private let context: PluginContext
    private let maxJobs: Int
    private let maxRunning: Int
    private var jobs: [String: Job] = [:]
    private var queue: [Job] = []
    private var running = 0
    private var sequence = 0
    private var stopping = false
    /// Finished-job counters, for health reports.
    private(set) var completed = 0

    init(context: PluginContext, maxJobs: Int, maxRunning: Int) {
        self.context = context
        self.maxJobs = max(1, maxJobs)
        self.maxRunning = max(1, maxRunning)
    }

    /// The job with `id`.
    /// - Throws: 404 problem when there is none.
    func job(_ id: String) throws -> Job {
        guard let job = jobs[id] else { throw TimetableProblem.unknownJob(id) }
        return job
    }

    /// Every kept job, oldest first.
    var all: [Job] { jobs.values.sorted { $0.sequence < $1.sequence } }

    /// Jobs currently running.
    var runningCount: Int { running }

    /// Position in the queue (0 = next), for queued jobs.
    func queuePosition(of job: Job) -> Int? { queue.firstIndex { $0 === job } }

    /// Accepts a new job and starts it if a slot is free.
    /// - Throws: 503 when stopping or when `max_jobs` unfinished jobs are kept.
    func submit(instance: Instance, format: InstanceFormat, options: JobOptions, work: JobWork) throws -> Job {
        guard !stopping else { throw TimetableProblem.unavailable("the timetable plugin is stopping") }
        try makeRoom()
        sequence += 1
        let id = UUID().uuidString.lowercased()
        let job = Job(id: id, sequence: sequence, instance: instance, format: format, options: options, work: work)
        jobs[id] = job
        queue.append(job)
        pump()
        return job
    }

    /// Drops the oldest finished jobs until there is room for one more.
    private func makeRoom() throws {
        while jobs.count >= maxJobs {
            guard let oldest = jobs.values.filter({ $0.status.isFinished }).min(by: { $0.sequence < $1.sequence }) else {
                throw TimetableProblem.unavailable("\(jobs.count) jobs are queued or running (max_jobs = \(maxJobs)); retry when one finishes")
            }
            jobs.removeValue(forKey: oldest.id)
        }
    }

    /// Requests cancellation: a queued job ends `cancelled` at once; a running one stops its solver, which
    /// returns its best timetable so far, and ends `cancelled` shortly after.
    func cancel(_ job: Job) {
        guard !job.status.isFinished else { return }
        job.cancelRequested = true
        job.token.cancel()
        if job.status == .queued {
            queue.removeAll { $0 === job }
            job.status = .cancelled
            job.finished = Date()
        }
    }

    /// Waits until `job` finishes or `milliseconds` pass; returns whether it finished.
    func wait(for job: Job, milliseconds: Int) async -> Bool {
        var waited = 0
        while !job.status.isFinished && waited < milliseconds {
            await context.sleep(milliseconds: 10)
            waited += 10
        }
        return job.status.isFinished
    }

    /// Stops taking jobs, cancels every queued and running one, and waits (at most `milliseconds`) for the
    /// running ones to hand back their worker threads.
    func shutdown(milliseconds: Int) async {
        stopping = true
        for job in all where !job.status.isFinished { cancel(job) }
        var waited = 0
        while running > 0 && waited < milliseconds {
            await context.sleep(milliseconds: 10)
            waited += 10
        }
        if running > 0 {
            context.logger.warning("timetable jobs still running at stop", metadata: ["running": "\(running)"])
        }
    }

    /// Starts queued jobs while slots are free.
    private func pump() {
        while running < maxRunning, !stopping, !queue.isEmpty {
            let job = queue.removeFirst()
            running += 1
            job.status = .running
            job.started = Date()
            Task { @PluginActor in
                await self.run(job)
            }
        }
    }

    /// Runs one job on the thread pool and records its outcome on the loop.
    private func run(_ job: Job) async {
        let (instance, options, work, token, progress) = (job.instance, job.options, job.work, job.token, job.progress)
        do {
            let outcome = try await context.offLoop {
                try Job.execute(instance: instance, options: options, work: work, token: token, progress: progress)
            }
            job.outcome = outcome
            if job.cancelRequested && outcome.wasCancelled {
                job.status = .cancelled
            } else {
                job.status = outcome.report.isFeasible ? .succeeded : .infeasible
            }
        } catch let error as InstanceError {
            job.failure = TimetableProblem.invalidInstance(error).detail
            job.status = .failed
        } catch {
            job.failure = "\(error)"
            job.status = job.cancelRequested ? .cancelled : .failed
        }
        job.finished = Date()
        completed += 1
        running -= 1
        context.logger.info("timetable job finished", metadata: [
            "job": "\(job.id)", "status": "\(job.status.rawValue)",
            "hard": "\(job.outcome?.report.hardViolations ?? -1)", "soft": "\(job.outcome?.report.softCost ?? -1)",
        ])
        pump()
    }
}
