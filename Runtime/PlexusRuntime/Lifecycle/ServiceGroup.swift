import Logging

/// Services started one after the other in the order given, and stopped in reverse: the
/// runtime's lifecycle as a structure (swift-service-lifecycle's `ServiceGroup`, on the libuv
/// loop, with completion callbacks instead of `async`). Loop thread only.
///
/// Each start and each stop has its own time limit. A start that fails or runs out of time stops
/// the services already started (in reverse) and reports the culprit by name. A stop that runs
/// out of time is logged naming the service, and the group goes on with the next one.
final class ServiceGroup {
    /// One service and its time limits, in milliseconds.
    struct Entry {
        let service: LoopService
        let startTimeout: UInt64
        let stopTimeout: UInt64
    }

    /// Why the group did not start.
    struct StartFailure: Error, CustomStringConvertible {
        /// The service that failed or did not start in time.
        let service: String
        /// What went wrong (the service's own error, or the time limit).
        let reason: String
        /// The service's own error; nil when it ran out of time.
        let error: Error?
        var description: String { "service '\(service)' did not start: \(reason)" }
    }

    private let loop: EventLoop
    private let logger: Logger
    private let entries: [Entry]
    private var started: [Entry] = []
    private var starting = false
    private var stopping = false
    /// A stop asked for while a service was starting: it runs once that start has finished.
    private var pendingStop: (() -> Void)?
    /// Services whose stop ran out of time, by name, in the order they were abandoned.
    private(set) var abandonedStops: [String] = []

    /// A group of `entries`, started in this order.
    init(loop: EventLoop, logger: Logger, entries: [Entry]) {
        self.loop = loop
        self.logger = logger
        self.entries = entries
    }

    /// The names of the services that are started now, in start order.
    var startedNames: [String] { started.map(\.service.serviceName) }

    /// Starts every service in order; `completion` gets nil once all run, or the failure after
    /// the services already started have been stopped again. A stop asked for while starting waits for the service being started, then stops those
    /// started (in reverse); `completion` is then not called.
    func start(completion: @escaping (StartFailure?) -> Void) {
        starting = true
        startNext(entries[...], completion: completion)
    }

    private func startNext(_ rest: ArraySlice<Entry>, completion: @escaping (StartFailure?) -> Void) {
        if let stop = pendingStop {
            starting = false
            pendingStop = nil
            return stop()
        }
        guard let entry = rest.first else {
            starting = false
            return completion(nil)
        }
        let name = entry.service.serviceName
        let finish = once(timeout: entry.startTimeout, late: { [unowned self] in
            logger.error("service did not start in time", metadata: ["service": "\(name)", "timeout_ms": "\(entry.startTimeout)"])
        }) { [unowned self] (error: Error?, timedOut: Bool) in
            if timedOut || error != nil {
                starting = false
                let reason = timedOut ? "not started within \(entry.startTimeout) ms" : "\(error!)"
                let failure = StartFailure(service: name, reason: reason, error: error)
                if let stop = pendingStop {
                    pendingStop = nil
                    return stop()
                }
                stop { completion(failure) }
                return
            }
            started.append(entry)
            startNext(rest.dropFirst(), completion: completion)
        }
        entry.service.start { error in finish(error, false) }
    }

    /// Stops the started services in reverse order, each within its time limit; `completion`
    /// once the last has stopped or been abandoned. A second call while stopping does nothing.
    func stop(completion: @escaping () -> Void) {
        guard !stopping, pendingStop == nil else { return }
        if starting {
            pendingStop = { [unowned self] in stop(completion: completion) }
            return
        }
        stopping = true
        stopNext(completion: completion)
    }

    private func stopNext(completion: @escaping () -> Void) {
        guard let entry = started.popLast() else {
            stopping = false
            return completion()
        }
        let name = entry.service.serviceName
        let finish = once(timeout: entry.stopTimeout, late: { [unowned self] in
            logger.warning("service stopped late; already abandoned", metadata: ["service": "\(name)"])
        }) { [unowned self] (_: Error?, timedOut: Bool) in
            if timedOut {
                abandonedStops.append(name)
                logger.error("service did not stop in time; going on without it",
                             metadata: ["service": "\(name)", "timeout_ms": "\(entry.stopTimeout)"])
            }
            stopNext(completion: completion)
        }
        entry.service.stop { finish(nil, false) }
    }

    /// A completion that runs `body` once: with the service's outcome, or with `timedOut` after
    /// `timeout` ms (0: no limit). A completion after the time limit only runs `late`.
    private func once(timeout: UInt64, late: @escaping () -> Void, _ body: @escaping (Error?, Bool) -> Void) -> (Error?, Bool) -> Void {
        let state = OnceState()
        let finish: (Error?, Bool) -> Void = { error, timedOut in
            if state.done {
                if !timedOut { late() }
                return
            }
            state.done = true
            state.timer?.close()
            state.timer = nil
            body(error, timedOut)
        }
        if timeout > 0 {
            let limit = LoopTimer(loop: loop)
            state.timer = limit
            limit.start(afterMilliseconds: timeout) { finish(nil, true) }
        }
        return finish
    }
}

/// Whether one start or stop has finished, and its time limit.
private final class OnceState {
    var done = false
    var timer: LoopTimer?
}
