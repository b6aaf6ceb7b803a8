/// Limits and timeouts of the HTTP server.
public struct HTTPLimits: Sendable {
    /// Largest request line plus headers, in bytes (431 beyond).
    public var maxHeaderBytes = 16 * 1024
    /// Largest request target, in bytes (414 beyond).
    public var maxURLBytes = 8 * 1024
    /// Most header fields in one request (431 beyond).
    public var maxHeaderCount = 100
    /// Default largest body, in bytes (413 beyond); a route may set its own.
    public var maxBodyBytes: UInt64 = 1 << 20
    /// Time allowed to receive a request's head once its first byte arrived (408 after).
    public var headerTimeoutMilliseconds: UInt64 = 10_000
    /// Time allowed between two reads while a body is arriving (408 after).
    public var bodyTimeoutMilliseconds: UInt64 = 30_000
    /// Time allowed for a whole request body once its head is complete, however steadily it
    /// trickles in (408 after).
    public var bodyDeadlineMilliseconds: UInt64 = 120_000
    /// Request body bytes all connections together may hold in memory (bodies being read or
    /// waiting for their answer). A request whose body would go beyond it gets 503 with
    /// `Retry-After` and the connection closes.
    public var bodyBudgetBytes: UInt64 = 256 << 20
    /// Time a keep-alive connection may sit idle before it is closed.
    public var idleTimeoutMilliseconds: UInt64 = 60_000
    /// Most requests read ahead on one connection before reading pauses (pipelining depth).
    public var maxPipelinedRequests = 64
    /// Time allowed for in-flight requests to finish at shutdown.
    public var shutdownGraceMilliseconds: UInt64 = 10_000

    public init() {}
}
