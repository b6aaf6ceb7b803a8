import PlexusSDK

/// A caller waiting until an entry is in storage (a signal or cancel request, or a durable
/// delivery waiting for its `event.received` entry), answered exactly once: by the commit that
/// stores the entry, by a refusal, or by its deadline (``WorkflowRunner/durableDeadline``),
/// whichever comes first; later answers are ignored. So a history commit that keeps failing for
/// another reason than the lease (storage refusing writes, a constraint, a full disk) never keeps
/// a client waiting without end.
@PluginActor
final class DurableWaiter {
    private var continuation: CheckedContinuation<Void, Error>?
    private var timer: TimerHandle?

    init(_ continuation: CheckedContinuation<Void, Error>) { self.continuation = continuation }

    /// Answers the waiter with `error` once `deadline` passes, unless it was answered before.
    func expire(after deadline: Duration, timers: Timers, with error: @escaping @PluginActor () -> Error) {
        timer = timers.schedule(after: deadline) { [weak self] in
            guard let self, self.continuation != nil else { return }
            self.resume(throwing: error())
        }
    }

    /// The entry is stored.
    func resume() {
        guard let continuation else { return }
        self.continuation = nil
        timer?.cancel()
        continuation.resume()
    }

    /// The entry will not be stored (or was not within the deadline).
    func resume(throwing error: Error) {
        guard let continuation else { return }
        self.continuation = nil
        timer?.cancel()
        continuation.resume(throwing: error)
    }
}

/// A history entry was not confirmed stored within ``WorkflowRunner/durableDeadline``: the
/// commit keeps failing (the reason is in `cause`). 503 with `Retry-After`; the entry stays
/// queued and is stored once the commit succeeds, so a client checks the instance before it
/// sends the same signal again.
struct StorageTimedOut: HTTPResponseError, CustomStringConvertible {
    let instance: String
    let seconds: Int
    let cause: String
    var status: Int { 503 }
    var title: String { "Service Unavailable" }
    var detail: String {
        "storage did not confirm the entry for instance '\(instance)' within \(seconds) s (the history commit keeps failing: \(cause)); "
            + "it stays queued and is stored once storage recovers: check the instance before sending it again"
    }
    var description: String { "history entry of \(instance) not stored within \(seconds) s: \(cause)" }
    /// The `Retry-After` value (s).
    static let retryAfter = 5

    /// The problem+json answer with `Retry-After`.
    func response(requestID: String) -> Response {
        var response = ProblemDetails.response(for: self, instance: requestID)
        response.headers.add("Retry-After", "\(Self.retryAfter)")
        return response
    }
}
