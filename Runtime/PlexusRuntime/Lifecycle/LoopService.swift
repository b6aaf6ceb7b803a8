/// A part of the runtime that starts and stops on the loop: a store, the plugin group, the HTTP
/// server, a monitor. ``ServiceGroup`` starts services in order and stops them in reverse.
///
/// Implementation requirements:
/// - Both calls are made on the loop thread, and each completion is called on the loop thread,
///   exactly once (it may be called before the call returns).
/// - `stop` is called only after `start` completed successfully, at most once; it releases
///   everything the service holds (handles, files, threads) before calling `done`.
/// - A `stop` that cannot finish in time is abandoned by the group, which goes on with the next
///   service: a late `done` is ignored.
protocol LoopService: AnyObject {
    /// The name logs use to say which service is late or failed (`"event log"`, `"plugins"`).
    var serviceName: String { get }
    /// Starts the service; `done` gets nil once it runs, or the error that kept it from starting.
    func start(_ done: @escaping (Error?) -> Void)
    /// Stops the service and releases what it holds; `done` once it has.
    func stop(_ done: @escaping () -> Void)
}

/// A ``LoopService`` made of two closures, for the parts whose start and stop are a call or two.
/// `start`/`stop` take a completion; `startNow`/`stopNow` finish before they return.
final class LoopServiceClosures: LoopService {
    let serviceName: String
    private let startBody: (@escaping (Error?) -> Void) -> Void
    private let stopBody: (@escaping () -> Void) -> Void

    /// A service named `name` whose start and stop are `start` and `stop`.
    init(_ name: String, start: @escaping (@escaping (Error?) -> Void) -> Void, stop: @escaping (@escaping () -> Void) -> Void) {
        serviceName = name
        startBody = start
        stopBody = stop
    }

    /// A service whose start finishes before it returns (throwing what keeps it from starting).
    convenience init(_ name: String, startNow: @escaping () throws -> Void, stop: @escaping (@escaping () -> Void) -> Void) {
        self.init(name, start: { done in
            do { try startNow(); done(nil) } catch { done(error) }
        }, stop: stop)
    }

    /// A service whose start and stop both finish before they return.
    convenience init(_ name: String, startNow: @escaping () throws -> Void, stopNow: @escaping () -> Void) {
        self.init(name, startNow: startNow, stop: { done in stopNow(); done() })
    }

    /// A service whose stop finishes before it returns.
    convenience init(_ name: String, start: @escaping (@escaping (Error?) -> Void) -> Void, stopNow: @escaping () -> Void) {
        self.init(name, start: start, stop: { done in stopNow(); done() })
    }

    func start(_ done: @escaping (Error?) -> Void) { startBody(done) }
    func stop(_ done: @escaping () -> Void) { stopBody(done) }
}
