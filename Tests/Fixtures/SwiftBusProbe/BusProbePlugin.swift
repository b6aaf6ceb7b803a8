import Foundation
import PlexusSDK

/// A test fixture that exercises the bus from inside a plugin:
/// - relays live `probe.in.<x>` events to `probe.out.<x>`;
/// - consumes the durable topic `orders.#` as group `probe-orders`, failing events whose payload
///   is `"fail"` (so they are retried and dead-lettered) and appending every acknowledged id to
///   `ack_log` (a file path from its config) so a test can check at-least-once across a kill;
/// - offers the service `probe.upper` and calls it from `POST /api/v1/probe/upper`;
/// - offers `probe.slow`, which answers its payload after `slow_ms` (config, default 0), and calls
///   it from `POST /api/v1/probe/slow` with a 30 s timeout (502 with the error);
/// - publishes on any topic from `POST /api/v1/probe/publish/:topic` and subscribes to the
///   pattern in the body of `POST /api/v1/probe/subscribe` (403 with the refusal);
/// - `POST /api/v1/probe/watch` subscribes to the pattern in the body and answers once the
///   subscription is complete (`Subscription.ready()`, ABI 1.10), 503 with the error when it
///   cannot be (a change log that did not start); `GET /api/v1/probe/watched`
///   lists what those subscriptions received (topic and payload text, in order).
@PluginActor
final class BusProbePlugin: Plugin {
    static let manifest = PluginManifest(
        name: "bus-probe", version: "1.0.0", description: "fixture: bus, durable groups, services",
        publishes: [TopicDeclaration("probe.out.+", schemaVersion: 2, description: "relayed probe events")]
    )

    private var relayed = 0
    private var watched: [[String: String]] = []
    private var acknowledged = 0
    private let context: PluginContext

    init(context: PluginContext) throws {
        self.context = context
        let ackLog = context.config["ack_log"]
        try context.bus.subscribe("probe.in.+") { [unowned self] event in
            relayed += 1
            let suffix = event.topic.split(separator: ".").last.map(String.init) ?? "x"
            Task { @PluginActor in
                try await context.bus.publish("probe.out.\(suffix)", payload: event.payload, contentType: event.contentType,
                                              causationID: event.id, schemaVersion: 2)
            }
        }
        try context.bus.subscribe("orders.#", group: "probe-orders") { [unowned self] event in
            if event.payload == Array("\"fail\"".utf8) { throw ProbeFailure() }
            if let ackLog {
                let line = Array("\(event.id)\n".utf8)
                try await context.offLoop {
                    // O_APPEND: concurrent appends from pool threads never overwrite each other.
                    let fd = open(ackLog, O_WRONLY | O_CREAT | O_APPEND, 0o644)
                    guard fd >= 0 else { throw ProbeFailure() }
                    defer { close(fd) }
                    guard line.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == line.count else { throw ProbeFailure() }
                }
            }
            acknowledged += 1
        }
        try context.services.register("probe.upper") { payload in
            Array(String(decoding: payload, as: UTF8.self).uppercased().utf8)
        }
        let slowMilliseconds = UInt64(context.config["slow_ms"] ?? "0") ?? 0
        try context.services.register("probe.slow") { payload in
            if slowMilliseconds > 0 { try await Task.sleep(nanoseconds: slowMilliseconds * 1_000_000) }
            return payload
        }
        try context.routes.post("/api/v1/probe/slow") { request async throws in
            do {
                return Response(status: 200, body: try await context.services.call("probe.slow", payload: request.body, timeout: .seconds(30)))
            } catch {
                throw HTTPError(status: 502, detail: "\(error)")
            }
        }
        try context.routes.post("/api/v1/probe/upper") { request async throws in
            let reply = try await context.services.call("probe.upper", payload: request.body, timeout: .seconds(1))
            return Response(status: 200, body: reply)
        }
        // Publishes on any topic, answering 403 with the runtime's refusal (reserved-topic tests).
        try context.routes.post("/api/v1/probe/publish/:topic") { request async throws in
            do {
                let id = try await context.bus.publish(request.parameters["topic"]!, payload: request.body)
                return Response(status: 202, body: Array(id.utf8))
            } catch {
                throw HTTPError(status: 403, detail: "\(error)")
            }
        }
        // Subscribes to the pattern in the body, answering 403 with the refusal (topic-grammar tests).
        try context.routes.post("/api/v1/probe/subscribe") { request async throws in
            do {
                try context.bus.subscribe(String(decoding: request.body, as: UTF8.self)) { _ in }
                return Response(status: 200, body: Array("subscribed".utf8))
            } catch {
                throw HTTPError(status: 403, detail: "\(error)")
            }
        }
        // Subscribes to the pattern in the body and answers once the subscription is complete.
        try context.routes.post("/api/v1/probe/watch") { [unowned self] request async throws in
            let subscription: Subscription
            do {
                subscription = try context.bus.subscribe(String(decoding: request.body, as: UTF8.self)) { [unowned self] event in
                    watched.append(["topic": event.topic, "payload": String(decoding: event.payload, as: UTF8.self)])
                }
            } catch {
                throw HTTPError(status: 403, detail: "\(error)")
            }
            do {
                try await subscription.ready()
            } catch let failure as PluginError {
                throw HTTPError(status: 503, detail: "\(failure) [status \(failure.status.map { "\($0.rawValue)" } ?? "none")]")
            }
            return Response(status: 200, body: Array("ready \(subscription.id)".utf8))
        }
        try context.routes.get("/api/v1/probe/watched") { [unowned self] _ in
            try .json(watched)
        }
        try context.routes.post("/api/v1/probe/call/:service") { request async throws in
            do {
                let reply = try await context.services.call(request.parameters["service"]!, payload: request.body, timeout: .milliseconds(300))
                return Response(status: 200, body: reply)
            } catch {
                throw HTTPError(status: 502, detail: "\(error)")
            }
        }
        try context.routes.get("/api/v1/probe/stats") { [unowned self] _ in
            try .json(["relayed": relayed, "acknowledged": acknowledged])
        }
    }
}

struct ProbeFailure: Error, CustomStringConvertible {
    var description: String { "payload asked to fail" }
}

@_cdecl("plexus_plugin_entry_v1")
public func plexusPluginEntry(_ host: UnsafeRawPointer?) -> UnsafeRawPointer? {
    PluginExport.descriptor(for: BusProbePlugin.self, host: host)
}
