import CPlexusABI
import Foundation

/// Answers one native function's route and service: copies the request on the loop, runs the
/// decoding, the C call and the encoding off the loop (on the plugin's bounded share of the
/// pool, marked in the blame record as the plugin's code), and answers on the loop.
final class NativeHandler {
    let function: NativeFunction
    let host: UnsafePointer<plexus_host>
    /// How the blame record names a call of this function.
    private let blameLabel: String
    /// The plugin's lane of the off-loop scheduler, looked up at the first call.
    private var lane: OffLoopScheduler.Lane?

    init(function: NativeFunction, host: UnsafePointer<plexus_host>) {
        self.function = function
        self.host = host
        blameLabel = "native call \(function.symbol)"
    }

    private var plugin: PluginInstance { PluginInstance.from(host) }

    /// A route's request (loop thread).
    func handle(_ request: UnsafePointer<plexus_request>) {
        let token = request.pointee.token
        let body = Self.bytes(request.pointee.body)
        let query = String(decoding: Self.bytes(request.pointee.query), as: UTF8.self)
        var declaredJSON = false
        for index in 0..<request.pointee.header_count {
            let header = request.pointee.headers[index]
            guard Self.equalsIgnoringCase(header.name, "content-type") else { continue }
            declaredJSON = Self.startsIgnoringCase(header.value, "application/json")
        }
        let function = function, isJSON = declaredJSON
        run(compute: {
            do throws(NativeCallProblem) {
                let (arguments, raw) = try NativeRequestDecoding.arguments(body: body, isJSON: isJSON, query: query, for: function)
                return (200, "application/json", try function.invoke(arguments: arguments, raw: raw))
            } catch {
                return (error.status, "application/problem+json", error.json)
            }
        }, then: { [host] status, type, text in
            var text = text
            text.withUTF8 { body in
                "Content-Type".withCString { name in
                    type.withCString { value in
                        var header = plexus_pair(name: plexus_bytes(data: name, length: 12), value: plexus_bytes(data: value, length: strlen(value)))
                        var response = plexus_response()
                        response.struct_size = UInt32(MemoryLayout<plexus_response>.size)
                        response.status = UInt16(status)
                        response.body = plexus_bytes(data: UnsafeRawPointer(body.baseAddress)?.assumingMemoryBound(to: CChar.self), length: body.count)
                        withUnsafePointer(to: &header) { header in
                            response.headers = header
                            response.header_count = 1
                            host.pointee.respond!(host, token, &response)
                        }
                    }
                }
            }
        })
    }

    /// A bus service call (loop thread): the payload is a JSON object of parameters, or the raw
    /// bytes of the function's one `bytes` parameter; a failure replies PLEXUS_ERROR with the problem.
    func serve(token: UInt64, payload: plexus_bytes) {
        let bytes = Self.bytes(payload)
        let function = function
        run(compute: {
            do throws(NativeCallProblem) {
                let (arguments, raw) = try NativeRequestDecoding.arguments(body: bytes, isJSON: NativeRequestDecoding.looksLikeJSONObject(bytes), query: "", for: function)
                return (200, "", try function.invoke(arguments: arguments, raw: raw))
            } catch {
                return (error.status, "", error.json)
            }
        }, then: { [host] status, _, text in
            var text = text
            text.withUTF8 { body in
                host.pointee.service_reply!(host, token, status == 200 ? Int32(PLEXUS_OK.rawValue) : Int32(PLEXUS_ERROR.rawValue),
                                            plexus_bytes(data: UnsafeRawPointer(body.baseAddress)?.assumingMemoryBound(to: CChar.self), length: body.count))
            }
        })
    }

    /// Runs `compute` off the loop (or on it, for a function declared `on_loop`), then `then` on the loop.
    private func run(compute: @escaping @Sendable () -> (Int, String, String), then: @escaping (Int, String, String) -> Void) {
        let plugin = plugin
        if function.declaration.onLoop {
            let (status, type, text) = Blame.around(plugin, blameLabel) { compute() }
            return then(status, type, text)
        }
        // One object per call carries everything across: the two closures capture only it.
        let call = NativeOffLoopCall(compute: compute, then: then, plugin: plugin.name, file: plugin.fileName, label: blameLabel)
        let offLoop = plugin.services.offLoop
        if lane == nil { lane = offLoop.lane(for: plugin.name) }
        offLoop.enqueue(on: lane!, work: { call.work() }, after: { call.finish(ran: $0) })
    }

    private static func bytes(_ bytes: plexus_bytes) -> [UInt8] {
        guard let data = bytes.data, bytes.length > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: data, count: bytes.length))
    }

    private static func startsIgnoringCase(_ bytes: plexus_bytes, _ lower: StaticString) -> Bool {
        guard let data = bytes.data else { return false }
        return ASCIICase.hasPrefix(UnsafeRawBufferPointer(start: data, count: bytes.length), lower)
    }

    private static func equalsIgnoringCase(_ bytes: plexus_bytes, _ lower: StaticString) -> Bool {
        guard let data = bytes.data else { return false }
        return ASCIICase.equal(UnsafeRawBufferPointer(start: data, count: bytes.length), lower)
    }
}

/// One off-loop call: the work, its outcome carried from the pool thread to the loop (the
/// scheduler orders the two), and the completion.
private final class NativeOffLoopCall: @unchecked Sendable {
    let compute: @Sendable () -> (Int, String, String)
    let then: (Int, String, String) -> Void
    let plugin: String, file: String, label: String
    var outcome: (Int, String, String)?

    init(compute: @escaping @Sendable () -> (Int, String, String), then: @escaping (Int, String, String) -> Void,
         plugin: String, file: String, label: String) {
        self.compute = compute
        self.then = then
        (self.plugin, self.file, self.label) = (plugin, file, label)
    }

    /// On a pool thread.
    func work() {
        outcome = Blame.offLoop(plugin: plugin, file: file, what: label) { compute() }
    }

    /// On the loop.
    func finish(ran: Bool) {
        if ran, let value = outcome { return then(value.0, value.1, value.2) }
        let problem = NativeCallProblem(status: 503, title: "Service unavailable", detail: "the runtime could not run \(label) off the loop")
        then(problem.status, "application/problem+json", problem.json)
    }
}
