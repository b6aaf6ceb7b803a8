/// What a connection calls out to, built once by the server and shared by all its connections:
/// the request pipeline's entry points, the body budget, and the numbering of requests. A
/// connection knows these closures, never the server.
final class ConnectionHooks {
    let loop: EventLoop
    let limits: HTTPLimits
    /// Request body bytes held by all connections.
    let bodies: BodyBudget
    /// The next request's token (unique in the process).
    let nextToken: () -> UInt64
    /// A request id for a request that brought no sane `X-Request-Id`.
    let nextRequestID: () -> String
    /// A request's head is complete and admitted: route and screen it (it may be answered at once).
    let headComplete: (HTTPExchange) -> Void
    /// A request's body is complete: run it.
    let bodyComplete: (HTTPExchange) -> Void
    /// A request's answer (`bytes` long) was handed to the socket.
    let written: (HTTPExchange, Int) -> Void
    /// A request's client left before its answer.
    let abandoned: (HTTPExchange) -> Void
    /// Answers a request the connection refuses (a malformed or oversized one) with a problem.
    let fail: (HTTPExchange, Int, String, [(String, String)]) -> Void
    /// The connection closed.
    let closed: (HTTPConnection) -> Void
    /// A supervised worker's connection handover with its master (nil otherwise).
    let handover: () -> ConnectionHandover?

    init(loop: EventLoop, limits: HTTPLimits, bodies: BodyBudget, nextToken: @escaping () -> UInt64, nextRequestID: @escaping () -> String,
         headComplete: @escaping (HTTPExchange) -> Void, bodyComplete: @escaping (HTTPExchange) -> Void,
         written: @escaping (HTTPExchange, Int) -> Void, abandoned: @escaping (HTTPExchange) -> Void,
         fail: @escaping (HTTPExchange, Int, String, [(String, String)]) -> Void, closed: @escaping (HTTPConnection) -> Void,
         handover: @escaping () -> ConnectionHandover?) {
        self.loop = loop
        self.limits = limits
        self.bodies = bodies
        self.nextToken = nextToken
        self.nextRequestID = nextRequestID
        self.headComplete = headComplete
        self.bodyComplete = bodyComplete
        self.written = written
        self.abandoned = abandoned
        self.fail = fail
        self.closed = closed
        self.handover = handover
    }
}
