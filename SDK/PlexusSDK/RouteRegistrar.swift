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
    let bridge: HostBridge
    let logger: Logger
    private var boxes: [RouteBox] = []

    init(bridge: HostBridge, logger: Logger) {
        self.bridge = bridge
        self.logger = logger
    }

    /// Registers an `async` handler for `method` and `pattern`.
    /// - Parameters:
    ///   - options: who may call and how the route is described (default: any authenticated caller).
    ///   - maxBodyBytes: the largest body this route accepts (0: `options.maxBodyBytes`, or the server's default).
    /// - Throws: ``PluginError`` when the pattern is malformed.
    public func on(_ method: String, _ pattern: String, options: RouteOptions = RouteOptions(), maxBodyBytes: UInt64 = 0,
                   _ handler: @escaping @PluginActor (Request) async throws -> Response) throws {
        try add(method, pattern, options, maxBodyBytes, RouteBox(kind: .async(handler), bridge: bridge, logger: logger))
    }

    /// Registers a synchronous handler for `method` and `pattern`.
    public func on(_ method: String, _ pattern: String, options: RouteOptions = RouteOptions(), maxBodyBytes: UInt64 = 0,
                   _ handler: @escaping @PluginActor (Request) throws -> Response) throws {
        try add(method, pattern, options, maxBodyBytes, RouteBox(kind: .sync(handler), bridge: bridge, logger: logger))
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

    private func add(_ method: String, _ pattern: String, _ options: RouteOptions, _ maxBodyBytes: UInt64, _ box: RouteBox) throws {
        if let problem = options.nameProblem { throw PluginError.routeRejected(method: method, pattern: pattern, reason: problem) }
        var message = [CChar](repeating: 0, count: 512)
        var texts = BytePack([])
        for text in [options.roles.joined(separator: ","), options.scopes.joined(separator: " "), options.summary ?? "",
                     options.requestSchema?.json ?? "", options.responseSchema?.json ?? ""] {
            texts.append(text.utf8)
        }
        let status = method.uppercased().withCString { methodC in
            pattern.withCString { patternC in
                texts.withCStrings { strings in
                message.withUnsafeMutableBufferPointer { buffer in
                    var spec = plexus_route_spec()
                    spec.struct_size = UInt32(MemoryLayout<plexus_route_spec>.size)
                    spec.method = methodC
                    spec.pattern = patternC
                    spec.max_body_bytes = maxBodyBytes > 0 ? maxBodyBytes : options.maxBodyBytes
                    spec.access = options.access.rawValue
                    spec.tenant_required = options.tenantRequired ? 1 : 0
                    spec.roles = strings[0]
                    spec.scopes = strings[1]
                    spec.summary = options.summary == nil ? nil : strings[2]
                    spec.request_schema = options.requestSchema == nil ? nil : strings[3]
                    spec.response_schema = options.responseSchema == nil ? nil : strings[4]
                    spec.response_status = UInt32(clamping: options.responseStatus)
                    spec.timeout_ms = options.timeout?.hostMilliseconds ?? 0
                    spec.route_ctx = Unmanaged.passUnretained(box).toOpaque()
                    spec.handler = { routeContext, request in
                        let box = Unmanaged<RouteBox>.fromOpaque(routeContext!).takeUnretainedValue()
                        PluginActor.runOnLoop { box.handle(request!) }
                    }
                    var error = plexus_error(message: buffer.baseAddress, capacity: buffer.count)
                    return bridge.host.pointee.route_add(bridge.host, &spec, &error)
                }
                }
            }
        }
        guard status == Int32(PLEXUS_OK.rawValue) else {
            throw PluginError.routeRejected(method: method, pattern: pattern, reason: String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)).withLastStatus()
        }
        boxes.append(box)
    }
}

/// A route's handler, kept alive for as long as the runtime may call it.
@PluginActor
final class RouteBox {
    enum Kind {
        case sync(@PluginActor (Request) throws -> Response)
        case async(@PluginActor (Request) async throws -> Response)
    }

    let kind: Kind
    let bridge: HostBridge
    let logger: Logger

    init(kind: Kind, bridge: HostBridge, logger: Logger) {
        self.kind = kind
        self.bridge = bridge
        self.logger = logger
    }

    func handle(_ raw: UnsafePointer<plexus_request>) {
        let token = raw.pointee.token
        let request = Request(raw.pointee)
        switch kind {
        case .sync(let handler):
            bridge.respond(token: token, answer(request) { try handler(request) })
        case .async(let handler):
            Task { @PluginActor in
                let response: Response
                do {
                    response = try await handler(request)
                } catch {
                    response = self.problem(error, request)
                }
                self.bridge.respond(token: token, response)
            }
        }
    }

    private func answer(_ request: Request, _ body: () throws -> Response) -> Response {
        do { return try body() } catch { return problem(error, request) }
    }

    private func problem(_ error: Error, _ request: Request) -> Response {
        if (error as? HTTPResponseError).map({ $0.status >= 500 }) ?? true {
            logger.error("handler failed", metadata: ["request_id": "\(request.requestID)", "path": "\(request.path)", "error": "\(error)"])
        }
        return ProblemDetails.response(for: error, instance: request.requestID)
    }
}

extension Request {
    /// Copies a C request into Swift values.
    init(_ raw: plexus_request) {
        var packed = PackedHeaders()
        for index in 0..<raw.header_count {
            let pair = raw.headers[index]
            packed.append(name: UnsafeRawBufferPointer(start: pair.name.data, count: pair.name.data == nil ? 0 : pair.name.length),
                          value: UnsafeRawBufferPointer(start: pair.value.data, count: pair.value.data == nil ? 0 : pair.value.length))
        }
        let headers = Headers(packed: packed)
        var parameters: [String: String] = [:]
        for index in 0..<raw.param_count {
            parameters[raw.params[index].name.string] = raw.params[index].value.string
        }
        // ABI 1.2 appended the caller; a 1.1 runtime's request ends before it.
        guard Int(raw.struct_size) >= MemoryLayout<plexus_request>.offset(of: \.scopes)! + MemoryLayout<plexus_bytes>.size else {
            self.init(method: raw.method.string, path: raw.path.string, parameters: parameters, rawQuery: raw.query.string,
                      headers: headers, body: raw.body.bytes, requestID: raw.request_id.string)
            return
        }
        let tenant = raw.tenant.string
        self.init(method: raw.method.string, path: raw.path.string, parameters: parameters, rawQuery: raw.query.string,
                  headers: headers, body: raw.body.bytes, requestID: raw.request_id.string,
                  subject: raw.subject.string, roles: raw.roles.string, scopes: raw.scopes.string, tenant: tenant.isEmpty ? nil : tenant)
    }
}

/// Errors the SDK itself raises.
public struct PluginError: Error, CustomStringConvertible {
    private enum Code {
        case routeRejected(method: String, pattern: String, reason: String)
        case unsupported(String)
        case busRefused(String)
        case serviceFailed(String, String)
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

    /// A one-line description naming what failed and why.
    public var description: String {
        switch code {
        case let .routeRejected(method, pattern, reason): "route \(method) \(pattern) was refused: \(reason)"
        case let .unsupported(feature): "this runtime does not offer \(feature)"
        case let .busRefused(reason): "the event bus refused: \(reason)"
        case let .serviceFailed(service, reason): "service '\(service)' failed: \(reason)"
        }
    }
}
