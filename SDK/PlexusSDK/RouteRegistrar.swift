import CPlexusABI
import Logging

/// Registers a plugin's HTTP routes with the runtime.
///
/// Patterns are literal segments, `:name` parameters and an optional trailing `*` that
/// captures the rest of the path (as parameter `*`): `/api/v1/hello/:name`, `/files/*`.
/// Routes can be added during `init(context:)` and `start()`; the runtime freezes them into
/// its router once every plugin has started.
///
/// A handler may be synchronous (answered inline, the fastest path) or `async` (runs as a task
/// on the loop thread; it may `await` off-loop work). A thrown ``HTTPResponseError`` becomes a
/// problem+json response with its status; any other error becomes a 500 and is logged.
@PluginActor
public final class RouteRegistrar {
    let driver: any RouteDriver
    let logger: Logger

    init(driver: any RouteDriver, logger: Logger) {
        self.driver = driver
        self.logger = logger
    }

    /// Registers an `async` handler for `method` and `pattern`.
    /// - Parameters:
    ///   - options: who may call and how the route is described (default: any authenticated caller).
    ///   - maxBodyBytes: the largest body this route accepts (0: `options.maxBodyBytes`, or the server's default).
    /// - Throws: ``PluginError`` when the pattern is malformed.
    public func on(_ method: String, _ pattern: String, options: RouteOptions = RouteOptions(), maxBodyBytes: UInt64 = 0,
                   _ handler: @escaping @PluginActor (Request) async throws -> Response) throws {
        try add(method, pattern, options, maxBodyBytes, .async(handler))
    }

    /// Registers a synchronous handler for `method` and `pattern`.
    public func on(_ method: String, _ pattern: String, options: RouteOptions = RouteOptions(), maxBodyBytes: UInt64 = 0,
                   _ handler: @escaping @PluginActor (Request) throws -> Response) throws {
        try add(method, pattern, options, maxBodyBytes, .sync(handler))
    }

    /// Registers an `async` handler for a typed `method` (`.patch`, `.options`, ...).
    public func on(_ method: HTTPMethod, _ pattern: String, options: RouteOptions = RouteOptions(), maxBodyBytes: UInt64 = 0,
                   _ handler: @escaping @PluginActor (Request) async throws -> Response) throws {
        try on(method.rawValue, pattern, options: options, maxBodyBytes: maxBodyBytes, handler)
    }

    /// Registers a synchronous handler for a typed `method`.
    public func on(_ method: HTTPMethod, _ pattern: String, options: RouteOptions = RouteOptions(), maxBodyBytes: UInt64 = 0,
                   _ handler: @escaping @PluginActor (Request) throws -> Response) throws {
        try on(method.rawValue, pattern, options: options, maxBodyBytes: maxBodyBytes, handler)
    }

    /// Registers a synchronous `GET` handler (a `HEAD` is answered from it too).
    public func get(_ pattern: String, options: RouteOptions = RouteOptions(), _ handler: @escaping @PluginActor (Request) throws -> Response) throws {
        try on("GET", pattern, options: options, handler)
    }

    /// Registers an `async` `GET` handler.
    public func get(_ pattern: String, options: RouteOptions = RouteOptions(), _ handler: @escaping @PluginActor (Request) async throws -> Response) throws {
        try on("GET", pattern, options: options, handler)
    }

    /// Registers a synchronous `POST` handler.
    public func post(_ pattern: String, options: RouteOptions = RouteOptions(), maxBodyBytes: UInt64 = 0,
                     _ handler: @escaping @PluginActor (Request) throws -> Response) throws {
        try on("POST", pattern, options: options, maxBodyBytes: maxBodyBytes, handler)
    }

    /// Registers an `async` `POST` handler.
    public func post(_ pattern: String, options: RouteOptions = RouteOptions(), maxBodyBytes: UInt64 = 0,
                     _ handler: @escaping @PluginActor (Request) async throws -> Response) throws {
        try on("POST", pattern, options: options, maxBodyBytes: maxBodyBytes, handler)
    }

    /// Registers an `async` `PUT` handler.
    public func put(_ pattern: String, options: RouteOptions = RouteOptions(), maxBodyBytes: UInt64 = 0,
                    _ handler: @escaping @PluginActor (Request) async throws -> Response) throws {
        try on("PUT", pattern, options: options, maxBodyBytes: maxBodyBytes, handler)
    }

    /// Registers an `async` `DELETE` handler.
    public func delete(_ pattern: String, options: RouteOptions = RouteOptions(), _ handler: @escaping @PluginActor (Request) async throws -> Response) throws {
        try on("DELETE", pattern, options: options, handler)
    }

    private func add(_ method: String, _ pattern: String, _ options: RouteOptions, _ maxBodyBytes: UInt64, _ handler: RouteHandler) throws {
        if let problem = options.nameProblem { throw PluginError.routeRejected(method: method, pattern: pattern, reason: problem) }
        try driver.add(RouteDefinition(method: method.uppercased(), pattern: pattern, options: options, maxBodyBytes: maxBodyBytes, handler: handler, logger: logger))
    }
}

extension RouteHandler {
    /// Runs the handler for `request` and returns its response: a thrown ``HTTPResponseError``
    /// becomes a problem+json response with its status, any other error a 500 (logged with `logger`).
    @PluginActor
    public func respond(to request: Request, logger: Logger) async -> Response {
        switch self {
        case .sync(let handler):
            return answer(request, logger) { try handler(request) }
        case .async(let handler):
            do { return try await handler(request) } catch { return Self.problem(error, request, logger) }
        }
    }

    /// The answer of a synchronous handler, or of any handler's error.
    @PluginActor
    func answer(_ request: Request, _ logger: Logger, _ body: () throws -> Response) -> Response {
        do { return try body() } catch { return Self.problem(error, request, logger) }
    }

    @PluginActor
    static func problem(_ error: Error, _ request: Request, _ logger: Logger) -> Response {
        // A handler stopped by cancellation (its request abandoned) failed no one: not logged as an error.
        if !(error is CancellationError), (error as? HTTPResponseError).map({ $0.status >= 500 }) ?? true {
            logger.error("handler failed", metadata: ["request_id": "\(request.requestID)", "path": "\(request.path)", "error": "\(error)"])
        }
        return ProblemDetails.response(for: error, instance: request.requestID)
    }
}

/// Errors the SDK itself raises.
public struct PluginError: Error, CustomStringConvertible {
    private enum Code {
        case routeRejected(method: String, pattern: String, reason: String)
        case unsupported(String)
        case busRefused(String)
        case serviceFailed(String, String)
        case tenancyRefused(String)
        case auditRefused(String)
        case subscriptionEnded(UInt64)
        case subscriptionIncomplete(UInt64, String)
    }

    private let code: Code

    /// The code the runtime reported for this failure (ABI 1.4), e.g. ``HostStatus/alreadyExists``
    /// for a route that collides; nil when the runtime is older or the SDK refused it itself.
    public private(set) var status: HostStatus?

    private init(code: Code) { self.code = code }

    /// This error with the status of the host call (or callback outcome) that just reported it.
    func withLastStatus() -> PluginError {
        var copy = self
        copy.status = HostStatus.last()
        return copy
    }

    /// The runtime refused a route registration.
    public static func routeRejected(method: String, pattern: String, reason: String) -> PluginError {
        PluginError(code: .routeRejected(method: method, pattern: pattern, reason: reason))
    }

    /// The runtime is too old for a feature (its ABI lacks the host service).
    public static func unsupported(_ feature: String) -> PluginError { PluginError(code: .unsupported(feature)) }

    /// The bus refused a publish or subscription.
    public static func busRefused(_ reason: String) -> PluginError { PluginError(code: .busRefused(reason)) }

    /// A service call failed (no such service, timeout, or the handler's error).
    public static func serviceFailed(_ service: String, _ reason: String) -> PluginError { PluginError(code: .serviceFailed(service, reason)) }

    /// The runtime refused a tenant directory or tenant key operation (ABI 1.6).
    public static func tenancyRefused(_ reason: String) -> PluginError { PluginError(code: .tenancyRefused(reason)) }

    /// The runtime refused an audit record (ABI 1.8): a bad action name or field.
    public static func auditRefused(_ reason: String) -> PluginError { PluginError(code: .auditRefused(reason)) }

    /// A subscription ended (cancelled, or the plugin stopped) before it was complete.
    public static func subscriptionEnded(_ id: UInt64) -> PluginError { PluginError(code: .subscriptionEnded(id)) }

    /// A subscription could not be completed (a change log it needs did not start).
    public static func subscriptionIncomplete(_ id: UInt64, _ reason: String) -> PluginError {
        PluginError(code: .subscriptionIncomplete(id, reason))
    }

    /// This error with `status`.
    func withStatus(_ status: HostStatus?) -> PluginError {
        var copy = self
        copy.status = status
        return copy
    }

    /// A one-line description naming what failed and why.
    public var description: String {
        switch code {
        case let .routeRejected(method, pattern, reason): "route \(method) \(pattern) was refused: \(reason)"
        case let .unsupported(feature): "this runtime does not offer \(feature)"
        case let .busRefused(reason): "the event bus refused: \(reason)"
        case let .serviceFailed(service, reason): "service '\(service)' failed: \(reason)"
        case let .tenancyRefused(reason): "the runtime refused: \(reason)"
        case let .auditRefused(reason): "the audit log refused: \(reason)"
        case let .subscriptionEnded(id): "subscription \(id) ended before it was complete"
        case let .subscriptionIncomplete(id, reason): "subscription \(id) is not complete: \(reason)"
        }
    }
}
