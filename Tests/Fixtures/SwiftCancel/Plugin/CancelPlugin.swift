import Foundation
import PlexusSDK
import Synchronization

/// A test fixture for cancellation (ABI 1.6): handlers that work until their task is cancelled
/// (by a deadline, a client that leaves, or a stop) and count what they saw, plus a route that
/// echoes the caller's roles and scopes as the handler received them.
///
/// Config: `cleanup_ms` (default 0), how long a cancelled handler keeps working before it
/// returns (cleanup that cancellation does not cut short), so a test can see that its bulkhead
/// slot stays taken until the handler really ends.
@PluginActor
public final class CancelPlugin: Plugin {
    public static let manifest = PluginManifest(name: "cancel", version: "1.0.0", description: "fixture: handlers that honour cancellation",
                                                configKeys: ["cleanup_ms"])

    /// What the handlers saw, as `GET /api/v1/cancel/seen` reports it.
    public struct Seen: Codable, Sendable, Equatable {
        /// Handlers that began.
        public var started = 0
        /// Handlers that saw `Task.isCancelled` turn true.
        public var cancelled = 0
        /// Handlers that returned.
        public var finished = 0

        /// Counts as a test expects them.
        public init(started: Int = 0, cancelled: Int = 0, finished: Int = 0) {
            (self.started, self.cancelled, self.finished) = (started, cancelled, finished)
        }
    }

    /// What the off-loop jobs of `GET /api/v1/cancel/offloop` saw, as `GET /api/v1/cancel/jobs` reports it.
    public struct Jobs: Codable, Sendable, Equatable {
        /// Jobs that began on a pool thread.
        public var started = 0
        /// Jobs that saw their ``OffLoopCancellation`` raised.
        public var sawCancellation = 0
        /// Jobs that returned.
        public var returned = 0
        /// Handlers whose `offLoop` call threw `CancellationError` while its job still ran (its
        /// late result dropped).
        public var resumedBeforeTheJobReturned = 0

        /// Counts as a test expects them.
        public init(started: Int = 0, sawCancellation: Int = 0, returned: Int = 0, resumedBeforeTheJobReturned: Int = 0) {
            (self.started, self.sawCancellation, self.returned, self.resumedBeforeTheJobReturned) = (started, sawCancellation, returned, resumedBeforeTheJobReturned)
        }
    }

    /// Shared with the pool threads the jobs run on.
    private final class JobLedger: Sendable {
        let counts = Mutex(Jobs())
        /// Set once a handler's `offLoop` call ended: its job may return then.
        let handlerResumed = Atomic<Bool>(false)
    }

    private var seen = Seen()
    private let ledger = JobLedger()
    /// What the off-loop jobs saw so far (in-process tests read it directly).
    public var jobs: Jobs { ledger.counts.withLock { $0 } }
    /// What the handlers saw so far (in-process tests read it directly).
    public var observed: Seen { seen }
    private let cleanup: Duration

    public init(context: PluginContext) throws {
        cleanup = .milliseconds(max(0, min(context.config.int("cleanup_ms", default: 0), 60_000)))
        // Works until cancelled; the runtime answers 504 after 200 ms.
        try context.routes.get("/api/v1/cancel/wait", options: RouteOptions(access: .public, timeout: .milliseconds(200))) { [unowned self] _ in
            try await work()
        }
        // Works until cancelled with a deadline far away: only a client that leaves (or a stop) ends it.
        try context.routes.get("/api/v1/cancel/stuck", options: RouteOptions(access: .public, timeout: .seconds(60))) { [unowned self] _ in
            try await work()
        }
        // Waits for a job off the loop that works until its cancellation flag is raised (the runtime
        // answers 504 after 200 ms), then keeps cleaning up until the handler's call has ended
        // (at most 10 s), so a test sees the call end before the job returns.
        try context.routes.get("/api/v1/cancel/offloop", options: RouteOptions(access: .public, timeout: .milliseconds(200))) { [unowned self] _ in
            let ledger = self.ledger
            do {
                _ = try await context.offLoop { cancellation -> Int in
                    ledger.counts.withLock { $0.started += 1 }
                    var waited = 0
                    while !cancellation.isCancelled && waited < 30_000 {
                        usleep(1000)
                        waited += 1
                    }
                    if cancellation.isCancelled { ledger.counts.withLock { $0.sawCancellation += 1 } }
                    var lingered = 0
                    while !ledger.handlerResumed.load(ordering: .acquiring) && lingered < 10_000 {
                        usleep(1000)
                        lingered += 1
                    }
                    ledger.counts.withLock { $0.returned += 1 }
                    return waited
                }
            } catch is CancellationError {
                ledger.counts.withLock { if $0.returned == 0 { $0.resumedBeforeTheJobReturned += 1 } }
                ledger.handlerResumed.store(true, ordering: .releasing)
                throw CancellationError()
            }
            ledger.handlerResumed.store(true, ordering: .releasing)
            return .text("the job ended without a cancellation\n")
        }
        try context.routes.get("/api/v1/cancel/jobs", options: .public) { [unowned self] _ in
            try .json(jobs)
        }
        try context.routes.get("/api/v1/cancel/seen", options: .public) { [unowned self] _ in
            try .json(seen)
        }
        // The caller's roles and scopes, as the handler received them; the route needs role `ops` or `dev`.
        try context.routes.get("/api/v1/cancel/whoami", options: RouteOptions(roles: ["ops", "dev"], scopes: ["probe:read"])) { request in
            guard let caller = request.caller else { return .text("anonymous\n", status: 401) }
            return .text("roles=\(caller.roles.joined(separator: "|")) scopes=\(caller.scopes.joined(separator: "|"))\n")
        }
    }

    private func work() async throws -> Response {
        seen.started += 1
        defer { seen.finished += 1 }
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(5))
        }
        seen.cancelled += 1
        if cleanup > .zero {
            // A fresh task does not inherit the cancellation: the cleanup runs its full time.
            await Task { @PluginActor in try? await Task.sleep(for: cleanup) }.value
        }
        throw CancellationError()
    }
}
