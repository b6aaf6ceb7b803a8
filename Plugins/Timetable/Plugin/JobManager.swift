import Foundation
import PlexusSDK
import TimetableSolver

/// Keeps the jobs in memory, runs at most `maxRunning` at a time on the runtime's thread pool, and
/// queues the rest in arrival order.
///
/// Every job is also written to the plugin's storage (``JobStore``): its submission, each status change and,
/// once finished, its result. At start ``restore()`` loads them back: finished jobs are served as before
/// (results from storage); jobs that were queued or running when the process died end `failed` with
/// "interrupted by a restart" (they are not re-run; on PostgreSQL they are left to ``claimStale()``, which runs
/// them again, up to ``maxAttempts`` starts). At most `maxJobs` are kept; a new job evicts the
/// oldest finished one (deleting its rows), and is refused (503) when every kept job is still queued or running.
///
/// While jobs run, a loop timer publishes `timetable.job.progress` (non-durable, at most 4 per second per
/// job, only when the best-so-far changed); `timetable.job.finished` (durable) is published when a job ends.
///
/// Every job belongs to the tenant of the caller that submitted it ("" for a caller without a tenant; a re-plan
/// job to its source's tenant). Lookups and lists are scoped to the caller's tenant: another tenant's job answers
/// exactly like an unknown id. Job events are published into the job's tenant, so the bus shows them only to it.
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
    /// The jobs' rows in storage.
    let store: JobStore
    /// Publishes progress while jobs run.
    private var progressTimer: TimerHandle?
    /// Interval of progress events per job.
    static let progressInterval: Duration = .milliseconds(250)
    /// The error of jobs found queued or running at start.
    static let interruptedReason = "interrupted by a restart"
    /// On PostgreSQL (several instances on one database): how often an instance marks its unfinished
    /// jobs alive and looks for cancel requests, and after how long without a sign of life another
    /// instance's unfinished job counts as interrupted at start.
    static let heartbeatInterval: Duration = .seconds(2)
    static let staleAfterSeconds: Double = 15
    /// How many times a job is started in all (PostgreSQL: the first run and the re-runs by other
    /// instances after the one running it stopped) before it ends `failed` naming its attempts.
    static let maxAttempts = 3
    /// Whether jobs may be run by other instances on the same database (PostgreSQL storage).
    private var shared: Bool { leasesOnAnyStorage || context.storage.dialect == .postgresql }
    /// For tests: holds and judges jobs' leases on SQLite too (set before the first job; without
    /// the heartbeat, which ``startSharing()`` starts on PostgreSQL only, the lease's age is then
    /// judged only where a job's own timers look at it).
    var leasesOnAnyStorage = false
    /// The clock leases are stamped and judged by (seconds, monotonic: the process's uptime;
    /// injectable for tests). A frozen process's uptime still advances.
    var leaseClock: @Sendable () -> Double = { ProcessInfo.processInfo.systemUptime }
    private var heartbeatTimer: TimerHandle?

    /// The limits stored instances are read back with.
    private let instanceLimits: InstanceLimits

    init(context: PluginContext, maxJobs: Int, maxRunning: Int, instanceLimits: InstanceLimits = .standard) {
        self.context = context
        self.instanceLimits = instanceLimits
        self.maxJobs = max(1, maxJobs)
        self.maxRunning = max(1, maxRunning)
        store = JobStore(context: context)
        store.onLeaseLost = { [weak self] id in
            guard let self, let job = self.jobs[id] else { return }
            self.leaseLost(job, reason: "its write was refused: the job's lease expired, or another instance ended it")
        }
    }

    /// Applies the storage migrations and loads the stored jobs (call from `start()`): finished ones are kept as
    /// they were; queued or running ones are marked `failed` ("interrupted by a restart") and their
    /// `timetable.job.finished` is published. Jobs beyond `max_jobs` (oldest first) are dropped and deleted.
    /// A job whose input no longer parses is deleted on SQLite, and kept as stored on PostgreSQL
    /// (shown without its instance's summary), whose rows other instances share.
    func restore() async throws {
        try await store.migrate()
        let stored = try await store.load()
        let limits = instanceLimits
        let parsed = try await context.offLoop {
            stored.map { row in (row, Result { try Submission.parseStored(row.input, format: row.format, limits: limits, threads: row.options.threads) }) }
        }
        var interrupted: [Job] = []
        var unreadable: [String] = []
        for (row, instance) in parsed {
            // An unfinished job (PostgreSQL): another live instance runs it, and this one reads it
            // on demand; or its instance stopped, and the first heartbeat here or elsewhere takes
            // it over and runs it again (`claimStale`).
            if shared, !row.status.isFinished { continue }
            guard let instance = try? instance.get() else {
                // On PostgreSQL the row is shared: a finished job whose input does not parse here
                // (it ended `failed` saying so, or another instance's limits differ) is kept as stored.
                if shared {
                    let job = Self.unreadable(row)
                    sequence = max(sequence, job.sequence)
                    jobs[job.id] = job
                } else {
                    unreadable.append(row.id)
                }
                continue
            }
            let job = Self.restored(row, instance: instance)
            sequence = max(sequence, job.sequence)
            if !row.status.isFinished {
                job.status = .failed
                job.failure = Self.interruptedReason
                job.finished = Date()
                if job.storedElapsed == nil, let started = job.started { job.storedElapsed = job.finished!.timeIntervalSince(started) }
                interrupted.append(job)
            }
            jobs[job.id] = job
        }
        if !unreadable.isEmpty {
            context.logger.warning("timetable dropped unreadable stored jobs", metadata: ["jobs": "\(unreadable)"])
            store.delete(unreadable)
        }
        // On PostgreSQL each end is written only while the job is unfinished and its lease expired
        // by the server's clock (this host's clock judged it above); one refused is not published.
        let ends = interrupted.map { store.update($0, lease: false) }
        var evicted: [String] = []
        while jobs.count > maxJobs, let oldest = jobs.values.min(by: { $0.sequence < $1.sequence }) {
            jobs.removeValue(forKey: oldest.id)
            evicted.append(oldest.id)
        }
        store.delete(evicted)
        await store.flush()
        for (job, end) in zip(interrupted, ends) where await end.value && jobs[job.id] != nil { publishFinished(job) }
        context.logger.info("timetable restored jobs", metadata: [
            "kept": "\(jobs.count)", "interrupted": "\(interrupted.count)", "evicted": "\(evicted.count)",
        ])
    }

    /// A job as stored (finished, or another instance's), with `instance` parsed from its input.
    static func restored(_ row: StoredJob, instance: Instance) -> Job {
        let job = Job(id: row.id, tenant: row.tenant, sequence: row.sequence, instance: instance, format: row.format, options: row.options,
                      work: .solve, input: row.input, created: row.created)
        job.restoredReplanOf = row.replanOf
        job.started = row.started
        job.finished = row.finished
        job.cancelRequested = row.cancelRequested
        job.failure = row.error
        job.storedElapsed = row.elapsed
        job.hasStoredResult = row.hasResult
        if let progress = row.progress {
            job.progress.restore(progress)
            job.publishedUpdates = progress.updates
        }
        job.status = row.status
        return job
    }

    // MARK: Several instances on one PostgreSQL database

    /// On PostgreSQL: marks this instance's unfinished jobs alive every ``heartbeatInterval`` and
    /// cancels those another instance asked to cancel, at once when the change feed reports an
    /// update of `timetable_jobs` (NOTIFY from the database), and at each heartbeat otherwise.
    func startSharing() throws {
        guard shared, heartbeatTimer == nil else { return }
        heartbeatTimer = context.timers.schedule(after: Self.heartbeatInterval, repeating: Self.heartbeatInterval) { [weak self] in
            guard let self, !self.stopping else { return }
            // Jobs whose lease may have expired stop first (the database out of reach: no renewal).
            self.checkLeases()
            let sent = self.leaseClock()
            let beat = self.jobs.values.contains(where: { !$0.status.isFinished }) ? self.store.heartbeat() : nil
            Task { @PluginActor in
                if let beat, let renewed = await beat.value { self.leasesRenewed(renewed, sentAt: sent) }
                await self.applyCancelRequests()
                await self.claimStale()
            }
        }
        try context.bus.subscribe("storage.\(TimetablePlugin.manifest.name).timetable_jobs.update") { [weak self] _ in
            Task { @PluginActor in await self?.applyCancelRequests() }
        }
    }

    /// How long after a job's ``Job/leaseSince`` this instance still runs it without a renewal (s):
    /// 3 s less than the server's expiry, so it has stopped before another instance ends it.
    static var leaseHeldFor: Double { staleAfterSeconds - 3 }

    /// After a heartbeat sent at `sentAt` renewed the leases of `renewed`: an unfinished job whose
    /// lease was stamped before it and was not renewed is lost, and stops here.
    private func leasesRenewed(_ renewed: Set<String>, sentAt: Double) {
        for job in jobs.values where !job.status.isFinished && !job.leaseLost {
            if renewed.contains(job.id) {
                job.leaseSince = max(job.leaseSince, sentAt)
            } else if job.leaseSince < sentAt {
                leaseLost(job, reason: "the heartbeat found its lease expired, or the job ended by another instance")
            }
        }
    }

    /// True when this instance may still publish about `job` (its progress, which no server fence guards): its lease was
    /// not lost and, on PostgreSQL, was stamped less than ``leaseHeldFor`` ago. A job whose lease
    /// may have expired (this process frozen, or the database out of reach, since the last
    /// heartbeat) stops here at once, and false is returned: so a timer that fires before the
    /// next lease check (progress, right after a freeze) publishes nothing for it.
    private func holdsLease(_ job: Job) -> Bool {
        guard !job.leaseLost else { return false }
        guard shared else { return true }
        guard leaseClock() >= job.leaseSince + Self.leaseHeldFor else { return true }
        leaseLost(job, reason: "its lease was not renewed for \(Int(Self.leaseHeldFor)) s (the database was out of reach, or this process was frozen)")
        return false
    }

    /// Stops the unfinished jobs whose lease was not renewed for ``leaseHeldFor`` (the database out of reach).
    private func checkLeases() {
        let now = leaseClock()
        for job in jobs.values where !job.status.isFinished && !job.leaseLost && now >= job.leaseSince + Self.leaseHeldFor {
            leaseLost(job, reason: "its lease was not renewed for \(Int(Self.leaseHeldFor)) s (the database was out of reach)")
        }
    }

    /// Stops `job` here: its solver is cancelled, and no further write or event about it comes
    /// from this instance; reads of it go to its stored row (another instance ends it there).
    private func leaseLost(_ job: Job, reason: String) {
        guard shared, !job.leaseLost, jobs[job.id] === job else { return }
        job.leaseLost = true
        job.token.cancel()
        queue.removeAll { $0 === job }
        jobs[job.id] = nil
        context.logger.warning("timetable job stopped here: lease lost", metadata: ["job": "\(job.id)", "reason": "\(reason)"])
    }

    /// Publishes `timetable.job.finished` once the end's write went through (on PostgreSQL a write
    /// refused for the job's lease publishes nothing).
    private func finished(_ job: Job, written: Task<Bool, Never>) {
        guard shared else { publishFinished(job); return }
        Task { @PluginActor in
            if await written.value { self.publishFinished(job) }
        }
    }

    /// PostgreSQL, at each heartbeat: takes over the unfinished jobs of instances whose leases
    /// expired (they crashed, or were cut off for 15 s) and runs them again here, from the start
    /// (their input is in the row), as many as there is room for; a job already started
    /// ``maxAttempts`` times ends `failed` naming its attempts instead (as do re-plans, whose
    /// source timetable was in the stopped instance's memory). Nobody would finish them otherwise.
    private func claimStale() async {
        guard !stopping else { return }
        do {
            let stamped = leaseClock()
            let room = max(0, maxJobs - jobs.count)
            let (claimed, ended) = try await store.claimStale(limit: room, maxAttempts: Self.maxAttempts)
            if ended > 0 { context.logger.notice("timetable jobs of a stopped instance ended", metadata: ["jobs": "\(ended)"]) }
            guard !claimed.isEmpty else { return }
            let rows = try await store.load(ids: claimed)
            let limits = instanceLimits
            let parsed = try await context.offLoop {
                rows.map { row in (row, Result { try Submission.parseStored(row.input, format: row.format, limits: limits, threads: row.options.threads) }) }
            }
            var taken: [String] = []
            var unreadable: [(row: StoredJob, reason: String)] = []
            for (row, result) in parsed where jobs[row.id] == nil {
                let instance: Instance
                switch result {
                case .success(let parsed): instance = parsed
                case .failure(let error):
                    unreadable.append((row, Self.unreadableReason(row.format, error)))
                    continue
                }
                let job = Self.restored(row, instance: instance)
                job.leaseSince = stamped
                sequence = max(sequence, job.sequence)
                jobs[job.id] = job
                queue.append(job)
                taken.append(job.id)
            }
            if !taken.isEmpty { context.logger.notice("timetable jobs of a stopped instance taken over and run again", metadata: ["jobs": "\(taken)"]) }
            pump()
            await endUnreadable(unreadable)
        } catch {
            context.logger.warning("timetable could not take over stale jobs", metadata: ["error": "\(error)"])
        }
    }

    /// Ends taken-over jobs whose stored input no longer parses here (say the limits changed since
    /// it was accepted): `failed` naming what does not parse, and `timetable.job.finished` published
    /// for each end written (the write is fenced by this instance's fresh lease). Left queued, the
    /// heartbeat would renew them for ever and nobody would run them.
    private func endUnreadable(_ unreadable: [(row: StoredJob, reason: String)]) async {
        guard !unreadable.isEmpty else { return }
        let ends = unreadable.map { store.fail(id: $0.row.id, reason: $0.reason) }
        for ((row, reason), end) in zip(unreadable, ends) where await end.value {
            context.logger.warning("timetable job taken over ended: its input no longer parses", metadata: ["job": "\(row.id)", "reason": "\(reason)"])
            publishFinished(FinishedEvent(id: row.id, status: .failed, hard: nil, soft: nil), tenant: row.tenant)
        }
    }

    /// The failure of a job whose stored input of `format` no longer parses: what does not parse.
    nonisolated static func unreadableReason(_ format: InstanceFormat, _ error: Error) -> String {
        let detail = (error as? TimetableProblem)?.detail ?? "\(error)"
        return "its stored \(format.rawValue) input no longer parses here (the instance limits may have changed since it was accepted): \(detail); not run again"
    }

    /// Cancels this instance's jobs that another instance asked to cancel.
    private func applyCancelRequests() async {
        guard jobs.values.contains(where: { !$0.status.isFinished && !$0.cancelRequested }) else { return }
        do {
            for id in try await store.cancelRequests() {
                if let job = jobs[id], !job.cancelRequested { cancel(job) }
            }
        } catch {
            context.logger.warning("timetable could not read cancel requests", metadata: ["error": "\(error)"])
        }
    }

    /// Another instance's job of `tenant` from storage (nil on SQLite, or when there is none). A job
    /// whose stored input does not parse here (the limits changed since it was accepted; such a job
    /// ends `failed` naming why) is shown as stored, without its instance's summary, instead of
    /// answering with the parser's 422.
    func remoteJob(_ id: String, tenant: String) async throws -> Job? {
        guard shared, jobs[id] == nil, let row = try await store.load(id: id, tenant: tenant).first else { return nil }
        let limits = instanceLimits
        let instance = try? await context.offLoop {
            try Submission.parseStored(row.input, format: row.format, limits: limits, threads: row.options.threads)
        }
        return instance.map { Self.restored(row, instance: $0) } ?? Self.unreadable(row)
    }

    /// A stored job whose input does not parse here, as stored, with an empty stand-in instance.
    static func unreadable(_ row: StoredJob) -> Job {
        let job = restored(row, instance: Instance(name: "", days: 0, periodsPerDay: 0, courses: [], rooms: [], curricula: []))
        job.inputUnreadable = true
        return job
    }

    /// The tenant key of a request's tenant: "" for none.
    nonisolated static func tenantKey(_ tenant: String?) -> String { tenant ?? "" }

    /// The job with `id` that belongs to `tenant`.
    /// - Throws: 404 problem when there is none, or when it belongs to another tenant (the same answer, so that
    ///   ids of other tenants' jobs cannot be probed).
    func job(_ id: String, tenant: String) throws -> Job {
        guard let job = jobs[id], job.tenant == tenant else { throw TimetableProblem.unknownJob(id) }
        return job
    }

    /// Every kept job, oldest first (all tenants: for health and shutdown).
    var all: [Job] { jobs.values.sorted { $0.sequence < $1.sequence } }

    /// The kept jobs of `tenant`, oldest first.
    func jobs(of tenant: String) -> [Job] {
        jobs.values.filter { $0.tenant == tenant }.sorted { $0.sequence < $1.sequence }
    }

    /// Jobs currently running.
    var runningCount: Int { running }

    /// Position in the queue (0 = next), for queued jobs.
    func queuePosition(of job: Job) -> Int? { queue.firstIndex { $0 === job } }

    /// Accepts a new job for `tenant` and starts it if a slot is free.
    /// - Throws: 503 when stopping or when `max_jobs` unfinished jobs are kept.
    /// The job is written to storage in the background; await the returned task to know it was written.
    func submit(tenant: String, instance: Instance, format: InstanceFormat, options: JobOptions, work: JobWork,
                input: String) throws -> (job: Job, stored: Task<Void, Never>) {
        guard !stopping else { throw TimetableProblem.unavailable("the timetable plugin is stopping") }
        try makeRoom()
        sequence += 1
        let id = UUID().uuidString.lowercased()
        let job = Job(id: id, tenant: tenant, sequence: sequence, instance: instance, format: format, options: options, work: work, input: input)
        job.leaseSince = leaseClock()
        jobs[id] = job
        let stored = store.insert(job)
        queue.append(job)
        pump()
        return (job, stored)
    }

    /// Drops the oldest finished jobs until there is room for one more, deleting their stored rows.
    private func makeRoom() throws {
        var evicted: [String] = []
        defer { store.delete(evicted) }
        while jobs.count >= maxJobs {
            guard let oldest = jobs.values.filter({ $0.status.isFinished }).min(by: { $0.sequence < $1.sequence }) else {
                throw TimetableProblem.unavailable("\(jobs.count) jobs are queued or running (max_jobs = \(maxJobs)); retry when one finishes")
            }
            jobs.removeValue(forKey: oldest.id)
            evicted.append(oldest.id)
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
            finished(job, written: store.update(job))
        }
    }

    /// Waits until `job` finishes or `milliseconds` pass; returns whether it finished.
    func wait(for job: Job, milliseconds: Int) async -> Bool {
        var waited = 0
        while !job.status.isFinished && waited < milliseconds {
            await context.sleep(for: .milliseconds(10))
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
            await context.sleep(for: .milliseconds(10))
            waited += 10
        }
        if running > 0 {
            context.logger.warning("timetable jobs still running at stop", metadata: ["running": "\(running)"])
        }
        progressTimer?.cancel()
        progressTimer = nil
        heartbeatTimer?.cancel()
        heartbeatTimer = nil
        await store.flush()
    }

    /// Starts queued jobs while slots are free.
    private func pump() {
        while running < maxRunning, !stopping, !queue.isEmpty {
            let job = queue.removeFirst()
            running += 1
            job.status = .running
            job.started = Date()
            store.update(job)
            startProgressTimer()
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
        guard !job.leaseLost else {
            // Stopped here (lease lost): nothing more is written or published by this instance.
            // (The end's write below is fenced by the server, and `finished` is published only
            // once it went through, so a lease past its held time is judged there.)
            pump()
            return
        }
        let written: Task<Bool, Never>
        if let outcome = job.outcome {
            let (id, status, source) = (job.id, job.status, job.replanSource)
            written = store.update(job) {
                let json = try JobViews.encoder.encode(ResultView(id: id, status: status, replanOf: source, outcome: outcome))
                return (Array(json), SolutionFormat.write(outcome.timetable, for: outcome.instance))
            }
        } else {
            written = store.update(job)
        }
        publishProgress(job)
        finished(job, written: written)
        context.logger.info("timetable job finished", metadata: [
            "job": "\(job.id)", "status": "\(job.status.rawValue)",
            "hard": "\(job.outcome?.report.hardViolations ?? -1)", "soft": "\(job.outcome?.report.softCost ?? -1)",
        ])
        pump()
    }

    // MARK: Events

    /// `timetable.job.progress` payload.
    struct ProgressEvent: Encodable, Sendable {
        var id: String
        var bestHard: Int
        var bestSoft: Int
        var elapsedSeconds: Double

        enum CodingKeys: String, CodingKey {
            case id, bestHard = "best_hard", bestSoft = "best_soft", elapsedSeconds = "elapsed_seconds"
        }
    }

    /// `timetable.job.finished` payload (`hard`/`soft` null when there is no timetable).
    struct FinishedEvent: Encodable, Sendable {
        var id: String
        var status: JobStatus
        var hard: Int?
        var soft: Int?

        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(status, forKey: .status)
            try container.encode(hard, forKey: .hard)
            try container.encode(soft, forKey: .soft)
        }

        enum CodingKeys: String, CodingKey { case id, status, hard, soft }
    }

    /// Runs while any job runs: every 250 ms, publishes the progress of running jobs whose best-so-far changed.
    private func startProgressTimer() {
        guard progressTimer == nil else { return }
        progressTimer = context.timers.schedule(after: Self.progressInterval, repeating: Self.progressInterval) { [weak self] in
            guard let self else { return }
            let active = self.jobs.values.filter { $0.status == .running }
            for job in active { self.publishProgress(job) }
            if active.isEmpty {
                self.progressTimer?.cancel()
                self.progressTimer = nil
            }
        }
    }

    /// Publishes `job`'s progress if there is a report not published yet.
    private func publishProgress(_ job: Job) {
        guard holdsLease(job), let snapshot = job.progress.snapshot, snapshot.updates > job.publishedUpdates else { return }
        job.publishedUpdates = snapshot.updates
        // Wall-clock seconds since the job started (the solver's own clock at the end is a little shorter, and
        // would make the last event's elapsed_seconds go backwards).
        let seconds = job.started.map { (job.finished ?? Date()).timeIntervalSince($0) } ?? snapshot.elapsed
        let elapsed = (seconds * 1000).rounded() / 1000
        let event = ProgressEvent(id: job.id, bestHard: snapshot.hard, bestSoft: snapshot.soft, elapsedSeconds: elapsed)
        let (context, tenant) = (self.context, job.tenant)
        Task { @PluginActor in
            do {
                try await context.bus.publish("timetable.job.progress", json: event, tenant: tenant)
            } catch {
                context.logger.debug("timetable progress not published", metadata: ["job": "\(event.id)", "error": "\(error)"])
            }
        }
    }

    /// Publishes `timetable.job.finished` (durable) for `job`.
    private func publishFinished(_ job: Job) {
        let report = job.outcome?.report
        publishFinished(FinishedEvent(id: job.id, status: job.status, hard: report?.hardViolations, soft: report?.softCost), tenant: job.tenant)
    }

    /// Publishes `event` (durable) for a job of `tenant`.
    private func publishFinished(_ event: FinishedEvent, tenant: String) {
        let context = self.context
        Task { @PluginActor in
            do {
                try await context.bus.publish("timetable.job.finished", json: event, tenant: tenant, durable: true)
            } catch {
                context.logger.warning("timetable finished event not published", metadata: ["job": "\(event.id)", "error": "\(error)"])
            }
        }
    }
}
