import Foundation
import PlexusSDK

/// The hand-written peer of the zlib native plugin in bench/native.sh: the same `crc32` call
/// (zlib's, resolved once at start) behind a route and a service, written as a plugin author
/// would; and a route that calls any service in a loop, to count bus service calls per second.
@PluginActor
final class CRCPlugin: Plugin {
    static let manifest = PluginManifest(name: "swift-crc", version: "1.0.0", description: "fixture: zlib crc32 through a hand-written route")

    typealias CRC32 = @convention(c) (UInt, UnsafePointer<UInt8>?, UInt32) -> UInt

    init(context: PluginContext) throws {
        guard let zlib = dlopen("libz.so.1", RTLD_NOW | RTLD_LOCAL), let symbol = dlsym(zlib, "crc32") else {
            throw HTTPError(status: 500, detail: "libz.so.1 or its crc32 is missing")
        }
        let crc32 = unsafeBitCast(symbol, to: CRC32.self)
        // The raw body in, `{"result": <crc>}` out: what the native route answers for the same body.
        try context.routes.post("/api/v1/swift-crc/crc32", options: .public) { request in
            let crc = request.body.withUnsafeBufferPointer { crc32(0, $0.baseAddress, UInt32($0.count)) }
            return Response(status: 200, headers: Headers([("Content-Type", "application/json")]), body: Array("{\"result\":\(crc)}".utf8))
        }
        // The same, with the call off the loop as a plugin calling a possibly blocking C function would.
        try context.routes.post("/api/v1/swift-crc/crc32-offloop", options: .public) { request async throws in
            let body = request.body
            let crc = try await context.offLoop { body.withUnsafeBufferPointer { crc32(0, $0.baseAddress, UInt32($0.count)) } }
            return Response(status: 200, headers: Headers([("Content-Type", "application/json")]), body: Array("{\"result\":\(crc)}".utf8))
        }
        try context.services.register("swift-crc.crc32") { payload in
            let crc = payload.withUnsafeBufferPointer { crc32(0, $0.baseAddress, UInt32($0.count)) }
            return Array("{\"result\":\(crc)}".utf8)
        }
        // Calls `service` `calls` times (at most `concurrency` in flight) with the body as payload.
        try context.routes.post("/api/v1/swift-crc/call-loop", options: .public) { request async throws in
            let service = request.query["service"] ?? "zlib.crc32"
            let calls = min(Int(request.query["calls"] ?? "") ?? 10_000, 1_000_000)
            let concurrency = max(1, min(Int(request.query["concurrency"] ?? "") ?? 16, 256))
            let payload = request.body
            let start = DispatchTime.now().uptimeNanoseconds
            var failed = 0, started = 0
            await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<min(concurrency, calls) {
                    started += 1
                    group.addTask { await Self.callOnce(context, service, payload) }
                }
                while let ok = await group.next() {
                    if !ok { failed += 1 }
                    if started < calls {
                        started += 1
                        group.addTask { await Self.callOnce(context, service, payload) }
                    }
                }
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            return Response(status: 200, headers: Headers([("Content-Type", "application/json")]),
                            body: Array("{\"calls\":\(calls),\"failed\":\(failed),\"seconds\":\(seconds)}".utf8))
        }
    }
}

extension CRCPlugin {
    /// One service call; whether it was answered.
    @PluginActor
    static func callOnce(_ context: PluginContext, _ service: String, _ payload: [UInt8]) async -> Bool {
        (try? await context.services.call(service, payload: payload, timeout: .seconds(5))) != nil
    }
}

@_cdecl("plexus_plugin_entry_v1")
public func plexusPluginEntry(_ host: UnsafeRawPointer?) -> UnsafeRawPointer? {
    PluginExport.descriptor(for: CRCPlugin.self, host: host)
}
