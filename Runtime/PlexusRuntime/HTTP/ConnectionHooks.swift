import Foundation

/// What a connection calls out to, built once by the server and shared by all its connections:
/// the request pipeline's entry points, the body budget, and the numbering of requests.
///
/// The server and its pipeline outlive every connection, so they are held `unowned(unsafe)` and
/// called directly: no closure context and no reference to count per call on the request path.
final class ConnectionHooks {
    let loop: EventLoop
    let limits: HTTPLimits
    /// Request body bytes held by all connections.
    let bodies: BodyBudget
    private unowned(unsafe) let server: HTTPServer
    private unowned(unsafe) let pipeline: RequestPipeline

    init(server: HTTPServer, pipeline: RequestPipeline, loop: EventLoop, limits: HTTPLimits, bodies: BodyBudget) {
        self.server = server
        self.pipeline = pipeline
        self.loop = loop
        self.limits = limits
        self.bodies = bodies
    }

    /// The next request's token (unique in the process).
    func nextToken() -> UInt64 { server.nextToken() }

    /// Gives `exchange`, which brought no sane `X-Request-Id`, a generated one.
    func generateRequestID(for exchange: HTTPExchange) { exchange.generateRequestID(&server.requestIDs) }

    /// A request's head is complete and admitted: route and screen it (it may be answered at once).
    func headComplete(_ exchange: HTTPExchange) { pipeline.headComplete(exchange) }

    /// A request's body is complete: run it.
    func bodyComplete(_ exchange: HTTPExchange) { pipeline.bodyComplete(exchange) }

    /// A request's answer (`bytes` long) was handed to the socket.
    func written(_ exchange: HTTPExchange, _ bytes: Int) { pipeline.written(exchange, bytes: bytes) }

    /// A request's client left before its answer.
    func abandoned(_ exchange: HTTPExchange) { pipeline.abandoned(exchange) }

    /// Answers a request the connection refuses (a malformed or oversized one) with a problem.
    func fail(_ exchange: HTTPExchange, _ status: Int, _ detail: String, _ headers: [(String, String)]) {
        pipeline.writer.problem(exchange, status: status, detail: detail, headers: headers)
    }

    /// The connection closed.
    func closed(_ connection: HTTPConnection) { server.connectionClosed(connection) }

    /// A supervised worker's connection handover with its master (nil otherwise).
    func handover() -> ConnectionHandover? { server.handover }
}
