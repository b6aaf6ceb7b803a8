import PlexusSDK

/// The timetabling plugin: curriculum-based course timetabling (ITC2007 Track 3) as background jobs.
///
/// Routes, under `/api/v1/timetable/jobs` (see ``JobRoutes``): submit (`POST`), list, status, result
/// (JSON or ITC2007 text), cancel (`DELETE` or `POST .../cancel`) and re-plan (`POST .../replan`).
/// Every route needs an authenticated caller; each job belongs to the tenant of the caller that submitted it
/// (none for a caller without a tenant) and is invisible to every other tenant (404, not listed).
///
/// Configuration (`plugins.d/timetable.toml`):
/// - `max_jobs` (default 100): jobs kept (in memory and in storage); the oldest finished one is dropped
///   (and its rows deleted) first.
/// - `max_running_jobs` (default 2): solves running at once, each on one thread of the runtime's pool;
///   the rest wait in a queue.
/// - `default_time_limit_seconds` (10), `max_time_limit_seconds` (300), `max_threads` (2): option limits.
/// - `max_body_bytes` (default 8 MiB): the largest submission.
/// - `max_model_megabytes` (default 512): the largest estimated memory of one job's solver model; larger
///   instances (and instances beyond the fixed ``InstanceLimits``) are refused with 422 naming the field,
///   the value and the limit.
/// - `stop_wait_ms` (default 3000): how long ``stop()`` waits for cancelled solves to return.
///
/// Jobs and their results are kept in the plugin's storage (``JobStore``) and reloaded at start: finished
/// jobs survive a restart; jobs queued or running when the process died end `failed` with the error
/// "interrupted by a restart". Events: `timetable.job.progress` (non-durable, at most 4/s per running job:
/// `{id, best_hard, best_soft, elapsed_seconds}`) and `timetable.job.finished` (durable: `{id, status, hard, soft}`),
/// both published into the job's tenant.
@PluginActor
public final class TimetablePlugin: Plugin {
    /// Name `timetable`, version 1.1.0 (storage and events).
    public static let manifest = PluginManifest(
        name: "timetable",
        version: "1.1.0",
        description: "Course timetabling (ITC2007 curriculum-based and a JSON school model) as background jobs",
        publishes: [
            TopicDeclaration("timetable.job.progress",
                             description: "A running job's best timetable so far: {id, best_hard, best_soft, elapsed_seconds}; at most 4/s per job, not durable"),
            TopicDeclaration("timetable.job.finished",
                             description: "A job ended: {id, status, hard, soft} (hard/soft null without a timetable); durable"),
        ],
        configKeys: ["max_time_limit_seconds", "default_time_limit_seconds", "max_threads", "max_jobs", "max_running_jobs",
                     "max_body_bytes", "stop_wait_ms", "max_model_megabytes"]
    )

    private let context: PluginContext
    /// The jobs (internal: tests reach its lease clock).
    let manager: JobManager
    private let routes: JobRoutes
    private let stopWaitMilliseconds: Int

    /// Reads the configuration and registers the routes.
    public init(context: PluginContext) throws {
        self.context = context
        let config = context.config
        var limits = JobLimits()
        limits.maxTimeLimitSeconds = Double(max(1, config.int("max_time_limit_seconds", default: 300)))
        limits.defaultTimeLimitSeconds = min(limits.maxTimeLimitSeconds, Double(max(1, config.int("default_time_limit_seconds", default: 10))))
        limits.maxThreads = max(1, config.int("max_threads", default: 2))
        let modelMegabytes = min(1 << 20, max(1, config.int("max_model_megabytes", default: limits.instance.maxModelBytes >> 20)))
        limits.instance.maxModelBytes = modelMegabytes << 20
        let maxJobs = max(1, config.int("max_jobs", default: 100))
        let maxRunning = max(1, config.int("max_running_jobs", default: 2))
        let maxBody = max(1024, config.int("max_body_bytes", default: 8 << 20))
        stopWaitMilliseconds = max(0, config.int("stop_wait_ms", default: 3_000))
        manager = JobManager(context: context, maxJobs: maxJobs, maxRunning: maxRunning, instanceLimits: limits.instance)
        routes = JobRoutes(context: context, manager: manager, limits: limits)
        try routes.register(maxBodyBytes: UInt64(maxBody))
        context.logger.info("timetable ready", metadata: [
            "max_jobs": "\(maxJobs)", "max_running_jobs": "\(maxRunning)",
            "max_time_limit_seconds": "\(limits.maxTimeLimitSeconds)", "max_body_bytes": "\(maxBody)", "max_model_megabytes": "\(modelMegabytes)",
        ])
    }

    /// Applies the storage migrations and restores the stored jobs.
    public func start() async throws {
        try await manager.restore()
        try manager.startSharing()
    }

    /// Cancels queued and running jobs and waits (at most `stop_wait_ms`) for the solvers to return.
    public func stop() async {
        await manager.shutdown(milliseconds: stopWaitMilliseconds)
    }

    /// Healthy; reports running and kept jobs.
    public func health() -> HealthReport {
        HealthReport(status: .ok, detail: "\(manager.runningCount) running, \(manager.all.count) kept, \(manager.completed) finished")
    }
}
