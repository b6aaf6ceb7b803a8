import CPlexusABI
import Foundation

/// The responder for plugin routes: hands a request to its plugin's handler, keeps it until the
/// plugin answers (or its deadline passes, or its client leaves), and writes the answer.
/// Loop thread only.
final class PluginResponder: ResponseSink {
    private let loop: EventLoop
    private let writer: ResponseWriter
    /// Requests handed to plugins and not answered yet, by token (not the one whose handler runs now).
    private var awaiting: [UInt64: HTTPExchange] = [:]
    /// The request whose handler runs now: a synchronous handler answers it within the call, with
    /// no entry in ``awaiting`` (unretained: ``call(_:route:)`` holds it meanwhile, and the answer
    /// borrows it, with no reference counting).
    private var running: Unmanaged<HTTPExchange>?
    private var runningAnswered = false
    private var deadlineTimer: LoopTimer?
    /// Requests given up on whose plugin is told (ABI 1.6) and still holds a bulkhead slot.
    let abandoned: AbandonedRequests
    /// The bulkheads, breakers and deadlines (nil: no gateway); the gateway owns it.
    unowned(unsafe) var resilience: ResilienceStage?
    /// Which routes still receive the credentials the gateway consumed (none until the gateway is attached).
    var credentials = CredentialForwarding()
    /// Called after a plugin's answer was handed to its connection (the server checks whether it is drained).
    var answered: (() -> Void)?

    init(loop: EventLoop, writer: ResponseWriter) {
        self.loop = loop
        self.writer = writer
        abandoned = AbandonedRequests(loop: loop)
    }

    /// Requests handed to plugins and not answered yet.
    var inFlight: Int { awaiting.count + (running != nil && !runningAnswered ? 1 : 0) }

    func isServing(_ plugin: PluginInstance, tenant: String) -> Bool {
        awaiting.values.contains { $0.route?.plugin === plugin && $0.tenant == tenant }
    }

    /// Calls `route`'s handler for `exchange` (its body complete, its resilience guards passed).
    func call(_ exchange: HTTPExchange, route: RegisteredRoute) {
        if exchange.deadline != 0 { startDeadlineTimer() }
        exchange.connection.publishHandoverState(handingOver: exchange, to: route.plugin)
        // The operator's admin key is never forwarded: a plugin acts as its caller, never as the console.
        let forwards = credentials.forwards(to: route) && !(exchange.caller?.isAdminKey ?? false)
        var request = exchange.makeCRequest(credentials: forwards)
        let (outer, outerAnswered) = (running, runningAnswered)
        running = Unmanaged.passUnretained(exchange)
        runningAnswered = false
        Blame.around(route.plugin, route.blameLabel) { route.handler(route.context, &request) }
        // Not answered within the call: the answer comes later (an `async` handler, a timer),
        // unless its connection closed during the call (``forget(_:)`` did not find it waiting).
        if !runningAnswered {
            if exchange.abandoned {
                giveUp(exchange, reason: PLEXUS_ABANDON_CLIENT_GONE, success: true)
            } else {
                awaiting[exchange.token] = exchange
            }
        }
        (running, runningAnswered) = (outer, outerAnswered)
        // The request is valid only until the handler returns (plexus_abi.h): the plugin has
        // copied what it keeps, so a large body is not held twice while the plugin works on it.
        exchange.body.release()
    }

    func respond(token: UInt64, from plugin: PluginInstance, _ response: UnsafePointer<plexus_response>) {
        if let running, !runningAnswered,
           running._withUnsafeGuaranteedRef({ $0.token == token && $0.route?.plugin === plugin }) {
            runningAnswered = true
            running._withUnsafeGuaranteedRef { finish($0, response) }
            return
        }
        guard let waiting = awaiting[token], waiting.route?.plugin === plugin else {
            if abandoned.settle(token: token, plugin: plugin) { return }
            plugin.logger.debug("response for an unknown or abandoned request ignored", metadata: ["token": "\(token)"])
            return
        }
        awaiting.removeValue(forKey: token)
        finish(waiting, response)
    }

    /// Gives back what the request held and writes its answer.
    private func finish(_ exchange: HTTPExchange, _ response: UnsafePointer<plexus_response>) {
        resilience?.leave(exchange, success: response.pointee.status < 500, now: WallClockSeconds.now())
        writer.send(exchange, response)
        answered?()
    }

    /// Forgets `exchange`: its client left before the answer.
    func forget(_ exchange: HTTPExchange) {
        guard awaiting.removeValue(forKey: exchange.token) != nil else { return }
        // The client left; that says nothing about the plugin's health.
        giveUp(exchange, reason: PLEXUS_ABANDON_CLIENT_GONE, success: true)
    }

    /// `plugin` is about to stop: each request still waiting for it is answered 503 and the
    /// plugin told (ABI 1.6), before its `on_stop` runs.
    func stopping(_ plugin: PluginInstance) {
        let mine = awaiting.values.filter { $0.route?.plugin === plugin }.sorted { $0.token < $1.token }
        for exchange in mine {
            awaiting.removeValue(forKey: exchange.token)
            giveUp(exchange, reason: PLEXUS_ABANDON_PLUGIN_STOPPING, success: true)
            writer.problem(exchange, status: 503, detail: "plugin '\(plugin.name)' is stopping")
        }
        abandoned.deliverNow(to: plugin)
        if !mine.isEmpty { answered?() }
    }

    /// The server shuts down and its grace period is over: each request still waiting for a
    /// plugin is answered 503 and its plugin told (ABI 1.6, `PLEXUS_ABANDON_PLUGIN_STOPPING`); the
    /// notices reach the plugins before their `on_stop` (``stopping(_:)`` delivers what is left).
    func shutDown() {
        for exchange in awaiting.values.sorted(by: { $0.token < $1.token }) {
            awaiting.removeValue(forKey: exchange.token)
            giveUp(exchange, reason: PLEXUS_ABANDON_PLUGIN_STOPPING, success: true)
            let name = exchange.route?.plugin.name ?? "-"
            writer.problem(exchange, status: 503, detail: "the server is shutting down and plugin '\(name)' did not answer within the shutdown grace period")
        }
    }

    /// `plugin` stopped or failed: the bulkhead slots its abandoned requests held are freed.
    func stopped(_ plugin: PluginInstance) {
        abandoned.release(plugin)
    }

    /// Settles `exchange`'s guards after the runtime gave up on it, and tells its plugin when the
    /// plugin has the ABI 1.6 hook (then the bulkhead slot is held until the plugin answers).
    private func giveUp(_ exchange: HTTPExchange, reason: plexus_abandon_reason, success: Bool) {
        let now = WallClockSeconds.now()
        guard let plugin = exchange.route?.plugin, plugin.abandonHook != nil else {
            resilience?.leave(exchange, success: success, now: now)
            return
        }
        let bulkhead = resilience?.leave(exchange, success: success, now: now, keepingSlot: true)
        abandoned.add(token: exchange.token, plugin: plugin, bulkhead: bulkhead, reason: reason)
    }

    private func startDeadlineTimer() {
        guard deadlineTimer == nil else { return }
        let timer = LoopTimer(loop: loop)
        timer.start(afterMilliseconds: 50, repeatingMilliseconds: 50) { [unowned self] in expireDeadlines() }
        timer.unref()
        deadlineTimer = timer
    }

    /// Answers 504 for every request whose plugin has not answered by its deadline.
    private func expireDeadlines() {
        guard let resilience else { return }
        resilience.expireDeadlines(loopNow: loop.now) { token, deadline in
            guard let exchange = awaiting[token], exchange.deadline == deadline, let route = exchange.route else { return }
            awaiting.removeValue(forKey: token)
            giveUp(exchange, reason: PLEXUS_ABANDON_DEADLINE, success: false)
            let waited = resilience.timeoutMilliseconds(of: route)
            route.plugin.logger.warning("route timed out", metadata: ["route": "\(route.method) \(route.pattern)", "timeout_ms": "\(waited)",
                                                                     "request_id": "\(exchange.requestID)"])
            writer.problem(exchange, status: 504, detail: "plugin '\(route.plugin.name)' did not answer \(route.method) \(route.pattern) within \(waited) ms")
        }
    }
}
