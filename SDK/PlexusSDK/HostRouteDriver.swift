import CPlexusABI
import Logging

/// Routes over the host vtable: each handler kept alive in a box the runtime calls back.
@PluginActor
final class HostRouteDriver: RouteDriver {
    let bridge: HostBridge
    private var boxes: [RouteBox] = []
    /// The `async` handlers running now, by request token, for the runtime's abandon notices.
    let running = RunningHandlers()

    init(bridge: HostBridge) { self.bridge = bridge }

    func add(_ route: RouteDefinition) throws {
        let (method, pattern, options) = (route.method, route.pattern, route.options)
        let box = RouteBox(handler: route.handler, bridge: bridge, logger: route.logger, running: running)
        var message = [CChar](repeating: 0, count: 512)
        var texts = BytePack([])
        for text in [options.roles.joined(separator: ","), options.scopes.joined(separator: " "), options.summary ?? "",
                     options.requestSchema?.json ?? "", options.responseSchema?.json ?? ""] + options.roles + options.scopes {
            texts.append(text.utf8)
        }
        let status = method.withCString { methodC in
            pattern.withCString { patternC in
                texts.withCStrings { strings in
                // ABI 1.6: the roles and scopes once more as arrays (a 1.5 runtime reads the texts).
                let names = strings.dropFirst(5).map { Optional($0) }
                return names.withUnsafeBufferPointer { names in
                message.withUnsafeMutableBufferPointer { buffer in
                    var spec = plexus_route_spec()
                    spec.struct_size = UInt32(MemoryLayout<plexus_route_spec>.size)
                    spec.method = methodC
                    spec.pattern = patternC
                    spec.max_body_bytes = route.maxBodyBytes > 0 ? route.maxBodyBytes : options.maxBodyBytes
                    spec.access = options.access.rawValue
                    spec.tenant_required = options.tenantRequired ? 1 : 0
                    spec.roles = strings[0]
                    spec.scopes = strings[1]
                    spec.summary = options.summary == nil ? nil : strings[2]
                    spec.request_schema = options.requestSchema == nil ? nil : strings[3]
                    spec.response_schema = options.responseSchema == nil ? nil : strings[4]
                    spec.response_status = UInt32(clamping: options.responseStatus)
                    spec.timeout_ms = options.timeout?.hostMilliseconds ?? 0
                    spec.role_list = names.baseAddress
                    spec.role_count = UInt32(options.roles.count)
                    spec.scope_list = names.baseAddress.map { $0 + options.roles.count }
                    spec.scope_count = UInt32(options.scopes.count)
                    spec.route_ctx = Unmanaged.passUnretained(box).toOpaque()
                    spec.handler = { routeContext, request in
                        let box = Unmanaged<RouteBox>.fromOpaque(routeContext!).takeUnretainedValue()
                        PluginActor.runOnLoop(box, request!) { box, request in box.handle(request) }
                    }
                    var error = plexus_error(message: buffer.baseAddress, capacity: buffer.count)
                    return bridge.host.pointee.route_add(bridge.host, &spec, &error)
                }
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
    let handler: RouteHandler
    let bridge: HostBridge
    let logger: Logger
    let running: RunningHandlers

    init(handler: RouteHandler, bridge: HostBridge, logger: Logger, running: RunningHandlers) {
        self.handler = handler
        self.bridge = bridge
        self.logger = logger
        self.running = running
    }

    func handle(_ raw: UnsafePointer<plexus_request>) {
        let token = raw.pointee.token
        let request = Request(raw.pointee)
        switch handler {
        case .sync(let body):
            // Called directly, not through a closure: the request is borrowed, never copied.
            let response: Response
            do { response = try body(request) } catch { response = RouteHandler.problem(error, request, logger) }
            bridge.respond(token: token, response)
        case .async:
            // The runtime may give up on the request (a 504, a client that left, a stop): its
            // notice cancels this task, and the answer still sent at the end frees the bulkhead slot.
            let task = Task { @PluginActor in
                let response = await self.handler.respond(to: request, logger: self.logger)
                self.running.finished(token)
                self.bridge.respond(token: token, response)
            }
            running.started(token, task)
        }
    }
}

extension Request {
    /// Copies a C request into Swift values: every value is made first, then the value is built
    /// in one step by the memberwise initializer (assigning the fields one by one, with or
    /// without an early exit, left a copy and destruction of the whole value: about 500 instructions).
    init(_ raw: plexus_request) {
        // The path and the request id travel in the headers' buffer (two extra entries), decoded when read.
        var headerBytes = raw.path.length + raw.request_id.length
        for index in 0..<raw.header_count { headerBytes += raw.headers[index].name.length + raw.headers[index].value.length }
        let headerCount = raw.header_count
        let packed = PackedHeaders(count: headerCount, extras: 2, bytes: headerBytes) { index in
            func bytes(_ text: plexus_bytes) -> UnsafeRawBufferPointer {
                UnsafeRawBufferPointer(start: text.data, count: text.data == nil ? 0 : text.length)
            }
            if index == headerCount { return (UnsafeRawBufferPointer(start: nil, count: 0), bytes(raw.path)) }
            if index == headerCount + 1 { return (UnsafeRawBufferPointer(start: nil, count: 0), bytes(raw.request_id)) }
            let pair = raw.headers[index]
            return (bytes(pair.name), bytes(pair.value))
        }
        var parameters: [String: String] = [:]
        for index in 0..<raw.param_count {
            parameters[raw.params[index].name.string] = raw.params[index].value.string
        }
        let tenant: String?
        let caller: CallerSource
        // ABI 1.2 appended the caller; a 1.1 runtime's request ends before it.
        if Int(raw.struct_size) >= MemoryLayout<plexus_request>.offset(of: \.scopes)! + MemoryLayout<plexus_bytes>.size {
            let tenantText = raw.tenant.string, subject = raw.subject.string
            tenant = tenantText.isEmpty ? nil : tenantText
            if subject.isEmpty {
                caller = .value(nil)
            } else if Int(raw.struct_size) >= MemoryLayout<plexus_request>.offset(of: \.scope_count)! + MemoryLayout<Int>.size {
                // ABI 1.6 appended the roles and scopes as arrays.
                caller = .value(CallerIdentity(subject: subject, tenant: tenant, roles: Self.names(raw.role_list, raw.role_count),
                                               scopes: Self.names(raw.scope_list, raw.scope_count)))
            } else {
                // A 1.2 to 1.5 runtime's request has only the texts, parsed when first read.
                caller = .raw(subject: subject, roles: raw.roles.string, scopes: raw.scopes.string)
            }
        } else {
            tenant = nil
            caller = .value(nil)
        }
        self.init(method: Self.method(raw.method), pathText: RequestText(packed: packed, extra: 0), parameters: parameters,
                  rawQuery: raw.query.string, headers: Headers(packed: packed), body: raw.body.bytes,
                  requestIDText: RequestText(packed: packed, extra: 1),
                  callerSource: caller, tenant: tenant)
    }

    /// The method as a string literal when it is a common one (no bytes copied, nothing to validate).
    static func method(_ bytes: plexus_bytes) -> String {
        guard let data = bytes.data else { return "" }
        let b = UnsafeRawBufferPointer(start: data, count: bytes.length)
        switch b.count {
        case 3 where b[0] == 0x47 && b[1] == 0x45 && b[2] == 0x54: return "GET"
        case 3 where b[0] == 0x50 && b[1] == 0x55 && b[2] == 0x54: return "PUT"
        case 4 where b[0] == 0x50 && b[1] == 0x4F && b[2] == 0x53 && b[3] == 0x54: return "POST"
        case 4 where b[0] == 0x48 && b[1] == 0x45 && b[2] == 0x41 && b[3] == 0x44: return "HEAD"
        default: return bytes.string
        }
    }
}


extension Request {
    /// The names of an ABI 1.6 array.
    static func names(_ list: UnsafePointer<plexus_bytes>?, _ count: Int) -> [String] {
        guard let list, count > 0 else { return [] }
        return (0..<count).map { list[$0].string }
    }
}

/// The `async` route handlers running now, by request token: the runtime's abandon notice
/// (ABI 1.6) cancels the matching task, so `Task.isCancelled` turns true in the handler.
@PluginActor
final class RunningHandlers {
    private var tasks: [UInt64: Task<Void, Never>] = [:]

    /// Handlers running now.
    var count: Int { tasks.count }

    func started(_ token: UInt64, _ task: Task<Void, Never>) {
        tasks[token] = task
    }

    func finished(_ token: UInt64) {
        tasks.removeValue(forKey: token)
    }

    /// Cancels the handler of `token`, if it still runs.
    func cancel(_ token: UInt64) {
        tasks.removeValue(forKey: token)?.cancel()
    }

    /// Cancels every running handler (the plugin stops).
    func cancelAll() {
        for task in tasks.values { task.cancel() }
        tasks.removeAll()
    }
}
