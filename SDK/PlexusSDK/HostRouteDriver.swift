import CPlexusABI
import Logging

/// Routes over the host vtable: each handler kept alive in a box the runtime calls back.
@PluginActor
final class HostRouteDriver: RouteDriver {
    let bridge: HostBridge
    private var boxes: [RouteBox] = []

    init(bridge: HostBridge) { self.bridge = bridge }

    func add(_ route: RouteDefinition) throws {
        let (method, pattern, options) = (route.method, route.pattern, route.options)
        let box = RouteBox(handler: route.handler, bridge: bridge, logger: route.logger)
        var message = [CChar](repeating: 0, count: 512)
        var texts = BytePack([])
        for text in [options.roles.joined(separator: ","), options.scopes.joined(separator: " "), options.summary ?? "",
                     options.requestSchema?.json ?? "", options.responseSchema?.json ?? ""] {
            texts.append(text.utf8)
        }
        let status = method.withCString { methodC in
            pattern.withCString { patternC in
                texts.withCStrings { strings in
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
    let handler: RouteHandler
    let bridge: HostBridge
    let logger: Logger

    init(handler: RouteHandler, bridge: HostBridge, logger: Logger) {
        self.handler = handler
        self.bridge = bridge
        self.logger = logger
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
            Task { @PluginActor in
                self.bridge.respond(token: token, await self.handler.respond(to: request, logger: self.logger))
            }
        }
    }
}

extension Request {
    /// Copies a C request into Swift values.
    init(_ raw: plexus_request) {
        var headerBytes = 0
        for index in 0..<raw.header_count { headerBytes += raw.headers[index].name.length + raw.headers[index].value.length }
        var packed = PackedHeaders(fields: raw.header_count, bytes: headerBytes)
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

