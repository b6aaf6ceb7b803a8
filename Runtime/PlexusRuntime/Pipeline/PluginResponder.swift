import CPlexusABI
import Foundation

/// The responder for plugin routes: hands a request to its plugin's handler, keeps it until the
/// plugin answers (or its deadline passes, or its client leaves), and writes the answer.
/// Loop thread only.
final class PluginResponder: ResponseSink {
    private let loop: EventLoop
    private let writer: ResponseWriter
    /// Requests handed to plugins and not answered yet, by token.
    private var awaiting: [UInt64: HTTPExchange] = [:]
    private var deadlineTimer: LoopTimer?
    /// The bulkheads, breakers and deadlines (nil: no gateway); the gateway owns it.
    unowned(unsafe) var resilience: ResilienceStage?
    /// Called after a plugin's answer was handed to its connection (the server checks whether it is drained).
    var answered: (() -> Void)?

    init(loop: EventLoop, writer: ResponseWriter) {
        self.loop = loop
        self.writer = writer
    }

    /// Requests handed to plugins and not answered yet.
    var inFlight: Int { awaiting.count }

    /// Calls `route`'s handler for `exchange` (its body complete, its resilience guards passed).
    func call(_ exchange: HTTPExchange, route: RegisteredRoute) {
        if exchange.deadline != 0 { startDeadlineTimer() }
        awaiting[exchange.token] = exchange
        exchange.connection.publishHandoverState()
        var request = exchange.makeCRequest()
        Blame.around(route.plugin, route.blameLabel) { route.handler(route.context, &request) }
        // The request is valid only until the handler returns (plexus_abi.h): the plugin has
        // copied what it keeps, so a large body is not held twice while the plugin works on it.
        exchange.body.release()
    }

    func respond(token: UInt64, from plugin: PluginInstance, _ response: UnsafePointer<plexus_response>) {
        guard let exchange = awaiting[token], exchange.route?.plugin === plugin else {
            plugin.logger.debug("response for an unknown or abandoned request ignored", metadata: ["token": "\(token)"])
            return
        }
        awaiting.removeValue(forKey: token)
        resilience?.leave(exchange, success: response.pointee.status < 500, now: Date().timeIntervalSince1970)
        writer.send(exchange, response)
        answered?()
    }

    /// Forgets `exchange`: its client left before the answer.
    func forget(_ exchange: HTTPExchange) {
        guard awaiting.removeValue(forKey: exchange.token) != nil else { return }
        // The client left; that says nothing about the plugin's health.
        resilience?.leave(exchange, success: true, now: Date().timeIntervalSince1970)
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
            resilience.leave(exchange, success: false, now: Date().timeIntervalSince1970)
            let waited = resilience.timeoutMilliseconds(of: route)
            route.plugin.logger.warning("route timed out", metadata: ["route": "\(route.method) \(route.pattern)", "timeout_ms": "\(waited)",
                                                                     "request_id": "\(exchange.requestID)"])
            writer.problem(exchange, status: 504, detail: "plugin '\(route.plugin.name)' did not answer \(route.method) \(route.pattern) within \(waited) ms")
        }
    }
}
