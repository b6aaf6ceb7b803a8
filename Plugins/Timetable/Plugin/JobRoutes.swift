import Foundation
import PlexusSDK
import TimetableSolver

/// The HTTP face of the job manager: every `/api/v1/timetable/jobs` route.
///
/// Parsing instances and rendering results run off the loop (``PluginContext/offLoop(_:)``); status and
/// list answers are built on the loop from in-memory state and a lock-protected progress snapshot, so they
/// stay fast while solves occupy worker threads.
///
/// Every route needs an authenticated caller (the gateway answers 401 otherwise). Jobs are confined to the
/// caller's verified tenant (``Request/verifiedTenant``; "" for a caller without one): a new job belongs to it, the list shows
/// only its jobs, and any other tenant's job id answers 404 exactly like an unknown id.
@PluginActor
final class JobRoutes {
    private let context: PluginContext
    private let manager: JobManager
    private let limits: JobLimits
    /// How long `DELETE`/`cancel` wait for a running job to wind down before answering 202.
    private let cancelWaitMilliseconds = 3_000

    /// The routes' common prefix.
    static let base = "/api/v1/timetable/jobs"

    init(context: PluginContext, manager: JobManager, limits: JobLimits) {
        self.context = context
        self.manager = manager
        self.limits = limits
    }

    /// Registers the routes; `maxBodyBytes` bounds submissions and replan bodies.
    func register(maxBodyBytes: UInt64) throws {
        let routes = context.routes
        try routes.post(Self.base, options: Self.options("Submit a timetabling job (ITC2007 .ctt text or the JSON school model); 202 with Location"),
                        maxBodyBytes: maxBodyBytes) { [unowned self] request async in
            await guarded(request) { try await submit(request) }
        }
        try routes.get(Self.base, options: Self.options("List the caller's tenant's jobs, oldest first")) { [unowned self] request in
            guarded(request) { try list(request) }
        }
        try routes.get(Self.base + "/:id", options: Self.options("A job's status, live progress and limits")) { [unowned self] request async in
            await guarded(request) { try await status(request) }
        }
        let resultSummary = "A finished job's timetable: JSON, or ITC2007 text with ?format=itc2007 or Accept: text/plain"
        try routes.get(Self.base + "/:id/result", options: Self.options(resultSummary)) { [unowned self] request async in
            await guarded(request) { try await result(request) }
        }
        let cancelSummary = "Cancel a job; a running solve keeps its best timetable so far"
        try routes.delete(Self.base + "/:id", options: Self.options(cancelSummary)) { [unowned self] request async in
            await guarded(request) { try await cancel(request) }
        }
        try routes.post(Self.base + "/:id/cancel", options: Self.options("Cancel a job (same as DELETE)")) { [unowned self] request async in
            await guarded(request) { try await cancel(request) }
        }
        try routes.post(Self.base + "/:id/replan", options: Self.options("Re-plan a finished job's timetable after disruptions, as a new job"),
                        maxBodyBytes: maxBodyBytes) { [unowned self] request async in
            await guarded(request) { try await replan(request) }
        }
    }

    // MARK: Handlers

    /// `POST /jobs`: parse and check off the loop, then queue; 202 with `Location`.
    private func submit(_ request: Request) async throws -> Response {
        let limits = self.limits
        let submission = try await context.offLoop { try Submission.parse(request, limits: limits) }
        let (job, stored) = try manager.submit(tenant: Self.tenant(request), instance: submission.instance, format: submission.format,
                                               options: submission.options, work: .solve, input: submission.input)
        await stored.value
        return try accepted(job)
    }

    /// `GET /jobs`: the tenant's kept jobs, oldest first (`running` counts the tenant's running jobs).
    private func list(_ request: Request) throws -> Response {
        let jobs = manager.jobs(of: Self.tenant(request))
        return try .json(JobViews.List(jobs: jobs.map(JobViews.entry), count: jobs.count, running: jobs.count { $0.status == .running }),
                         encoder: JobViews.encoder)
    }

    /// `GET /jobs/<id>`: status, live progress and limits (of another instance's job: as it last stored them).
    private func status(_ request: Request) async throws -> Response {
        let job = try await anyJob(request)
        return try .json(JobViews.status(job, queuePosition: manager.queuePosition(of: job)), encoder: JobViews.encoder)
    }

    /// `GET /jobs/<id>/result`: 409 until finished; JSON, or ITC2007 text with `?format=itc2007` / `Accept: text/plain`.
    private func result(_ request: Request) async throws -> Response {
        let job = try await anyJob(request)
        let wantsText = try Self.wantsITCText(request)
        guard job.status.isFinished else {
            throw TimetableProblem.conflict("job \(job.id) is \(job.status.rawValue); the result is available once it finishes", status: job.status)
        }
        if job.outcome == nil, job.hasStoredResult, let body = try await manager.store.result(job.id, text: wantsText) {
            if wantsText { return Response(headers: Headers([("Content-Type", "text/plain; charset=utf-8")]), body: body) }
            return Response(headers: Headers([("Content-Type", "application/json")]), body: body)
        }
        guard let outcome = job.outcome else {
            let why = job.status == .failed ? "job \(job.id) failed: \(job.failure ?? "unknown error")" : "job \(job.id) was cancelled before it ran"
            throw TimetableProblem.conflict("\(why); there is no result", status: job.status)
        }
        let (id, status, source) = (job.id, job.status, job.replanSource)
        return try await context.offLoop {
            if wantsText {
                return Response.text(SolutionFormat.write(outcome.timetable, for: outcome.instance))
            }
            return try Response.json(ResultView(id: id, status: status, replanOf: source, outcome: outcome), encoder: JobViews.encoder)
        }
    }

    /// `DELETE /jobs/<id>` and `POST /jobs/<id>/cancel`: cancel, wait (bounded) for the solver to stop, and
    /// answer 200 with the final status, or 202 if it is still winding down; 409 for jobs finished otherwise.
    private func cancel(_ request: Request) async throws -> Response {
        let job = try await anyJob(request)
        if job.status.isFinished && job.status != .cancelled {
            throw TimetableProblem.conflict("job \(job.id) already finished (\(job.status.rawValue)); nothing to cancel", status: job.status)
        }
        if (try? tenantJob(request)) == nil { return try await cancelRemote(job) }
        manager.cancel(job)
        let done = await manager.wait(for: job, milliseconds: cancelWaitMilliseconds)
        return try .json(JobViews.status(job, queuePosition: nil), status: done ? 200 : 202, encoder: JobViews.encoder)
    }

    /// `POST /jobs/<id>/replan`: a new job re-planning the finished job's timetable after the disruptions.
    private func replan(_ request: Request) async throws -> Response {
        let source = try await anyJob(request)
        let instance: Instance, timetable: Timetable
        if source.inputUnreadable {
            throw TimetableProblem.conflict("job \(source.id)'s stored input does not parse here (the instance limits may differ from "
                                            + "the instance that accepted it), so its timetable cannot be re-planned here", status: source.status)
        }
        if source.status.isFinished, let outcome = source.outcome {
            (instance, timetable) = (outcome.instance, outcome.timetable)
        } else if source.status.isFinished, source.hasStoredResult, source.replanSource == nil,
                  let text = try await manager.store.result(source.id, text: true) {
            // A solve job restored after a restart: its timetable is the stored ITC2007 text, for its own instance.
            let sourceInstance = source.instance
            timetable = try await context.offLoop { try SolutionFormat.read(String(decoding: text, as: UTF8.self), for: sourceInstance) }
            instance = sourceInstance
        } else if source.status.isFinished, source.hasStoredResult {
            throw TimetableProblem.conflict("job \(source.id) is a re-planning job restored after a restart; its disrupted instance is not kept, "
                                            + "so re-plan its source job \(source.replanSource ?? "") instead", status: source.status)
        } else {
            throw TimetableProblem.conflict("job \(source.id) is \(source.status.rawValue) and has no timetable to re-plan; wait until it finishes",
                                            status: source.status)
        }
        let (limits, body) = (self.limits, request.body)
        let parsed = try await context.offLoop { try ReplanRequest.parse(body, instance: instance, limits: limits) }
        // The new job belongs to the source's tenant (the caller's: the lookup above is confined to it).
        let (job, stored) = try manager.submit(tenant: source.tenant, instance: instance, format: source.format,
                                               options: parsed.options,
                                               work: .replan(source: source.id, timetable: timetable, disruptions: parsed.disruptions),
                                               input: source.input)
        await stored.value
        return try accepted(job)
    }

    // MARK: Helpers

    /// Authenticated-caller options (the default access) with `summary` for `/openapi.json`.
    private static func options(_ summary: String) -> RouteOptions {
        RouteOptions(access: .authenticated, summary: summary)
    }

    /// The tenant jobs of `request` belong to: the caller's verified tenant, "" when it has none
    /// (a tenant the `Host` alone names never counts).
    private static func tenant(_ request: Request) -> String {
        JobManager.tenantKey(request.verifiedTenant)
    }

    /// The job named by the `:id` parameter, within the request's tenant.
    /// - Throws: 404 problem when there is none, or when it belongs to another tenant.
    private func tenantJob(_ request: Request) throws -> Job {
        try manager.job(request.parameters["id"] ?? "", tenant: Self.tenant(request))
    }

    /// This instance's job, or (on PostgreSQL) another instance's from storage.
    private func anyJob(_ request: Request) async throws -> Job {
        do {
            return try tenantJob(request)
        } catch let problem as TimetableProblem {
            guard let job = try await manager.remoteJob(request.parameters["id"] ?? "", tenant: Self.tenant(request)) else { throw problem }
            return job
        }
    }

    /// Cancels another instance's job: records the request in its row (the instance running it hears
    /// of it through the change feed), then waits (bounded) for that instance to store the end.
    private func cancelRemote(_ job: Job) async throws -> Response {
        var current = job
        if !job.status.isFinished {
            _ = try await manager.store.requestCancel(id: job.id, tenant: job.tenant)
            var waited = 0
            while waited < cancelWaitMilliseconds {
                await context.sleep(for: .milliseconds(50))
                waited += 50
                if let fresh = try await manager.remoteJob(job.id, tenant: job.tenant) {
                    current = fresh
                    if fresh.status.isFinished { break }
                }
            }
        }
        return try .json(JobViews.status(current, queuePosition: nil), status: current.status.isFinished ? 200 : 202, encoder: JobViews.encoder)
    }

    /// 202 with `Location` and the job's status.
    private func accepted(_ job: Job) throws -> Response {
        var response = try Response.json(JobViews.status(job, queuePosition: manager.queuePosition(of: job)), status: 202,
                                         encoder: JobViews.encoder)
        response.headers.set("Location", JobViews.location(job.id))
        return response
    }

    /// Whether the client asked for the ITC2007 solution text.
    private static func wantsITCText(_ request: Request) throws -> Bool {
        if let format = request.query["format"] {
            switch format.lowercased() {
            case "itc2007", "text": return true
            case "json": return false
            default: throw TimetableProblem.badOption("format", "unknown value '\(format)'; allowed: json, itc2007")
            }
        }
        let accept = (request.headers["Accept"] ?? "").lowercased()
        return accept.hasPrefix("text/plain")
    }

    /// Runs `body`, answering ``TimetableProblem`` with its problem+json (with extension members).
    private func guarded(_ request: Request, _ body: () async throws -> Response) async -> Response {
        do { return try await body() } catch { return problem(error, request) }
    }

    /// Synchronous variant of ``guarded(_:_:)-async``.
    private func guarded(_ request: Request, _ body: () throws -> Response) -> Response {
        do { return try body() } catch { return problem(error, request) }
    }

    private func problem(_ error: Error, _ request: Request) -> Response {
        if let problem = error as? TimetableProblem { return problem.response(instance: request.requestID) }
        if !(error is HTTPResponseError) {
            context.logger.error("timetable handler failed", metadata: ["request_id": "\(request.requestID)", "path": "\(request.path)", "error": "\(error)"])
        }
        return ProblemDetails.response(for: error, instance: request.requestID)
    }
}
