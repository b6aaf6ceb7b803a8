import CPlexusABI
import Foundation

/// Publishes and subscribes to events (needs a runtime with ABI 1.1 or later).
///
/// Topics are dot-separated segments of printable characters without whitespace or control
/// characters (at most 256 bytes, 64 per segment, 16 segments); patterns use `+` for exactly one
/// segment and `#` (last) for the rest: `ticket.+`, `tenant.acme.#`. The runtime checks every
/// topic and pattern and refuses others with ``PluginError/busRefused(_:)`` naming the character
/// or limit; it also refuses publishing on reserved topics (`system.…`, `deadletter.…`,
/// `storage.…`, and topics another plugin declares in its manifest). Handlers run on the loop thread.
@PluginActor
public final class Bus {
    let bridge: HostBridge
    private var handlers: [UInt64: SubscriptionBox] = [:]

    init(bridge: HostBridge) { self.bridge = bridge }

    /// Publishes an event; returns its id once the runtime accepted it. A `durable` publish
    /// returns only after the event was written to the durable log.
    @discardableResult
    public func publish(_ topic: String, payload: [UInt8], contentType: String = "application/octet-stream",
                        tenant: String = "", priority: Int = 0, correlationID: String? = nil, causationID: String? = nil,
                        schemaVersion: Int = 1, durable: Bool = false) async throws -> String {
        guard bridge.has(\.publish) else { throw PluginError.unsupported("the event bus (runtime ABI 1.0)") }
        return try await withCheckedThrowingContinuation { continuation in
            let box = Unmanaged.passRetained(PublishBox(continuation)).toOpaque()
            var message = [CChar](repeating: 0, count: 256)
            let status = Self.withEvent(topic, payload, contentType, tenant, priority, correlationID, causationID, schemaVersion) { event in
                message.withUnsafeMutableBufferPointer { buffer in
                    var error = plexus_error(message: buffer.baseAddress, capacity: buffer.count)
                    return bridge.host.pointee.publish(bridge.host, event, durable ? 1 : 0, PublishBox.completed, box, &error)
                }
            }
            if status != Int32(PLEXUS_OK.rawValue) {
                Unmanaged<PublishBox>.fromOpaque(box).release()
                continuation.resume(throwing: PluginError.busRefused(String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)).withLastStatus())
            }
        }
    }

    /// Publishes `value` as a JSON payload.
    @discardableResult
    public func publish<T: Encodable>(_ topic: String, json value: T, tenant: String = "", priority: Int = 0,
                                      correlationID: String? = nil, causationID: String? = nil, schemaVersion: Int = 1,
                                      durable: Bool = false) async throws -> String {
        let payload = Array(try Response.defaultEncoder.encode(value))
        return try await publish(topic, payload: payload, contentType: "application/json", tenant: tenant, priority: priority,
                                 correlationID: correlationID, causationID: causationID, schemaVersion: schemaVersion, durable: durable)
    }

    /// Subscribes `handler` to live events matching `pattern` (fire-and-forget delivery).
    /// - Parameters:
    ///   - queueLimit: events queued for this handler before `overflow` applies (0: runtime default).
    @discardableResult
    public func subscribe(_ pattern: String, queueLimit: Int = 0, overflow: OverflowPolicy = .dropOldest,
                          _ handler: @escaping @PluginActor (Event) -> Void) throws -> Subscription {
        try add(pattern, queueLimit: queueLimit, overflow: overflow, group: nil, maxAttempts: 0, box: SubscriptionBox(bridge: bridge, live: handler))
    }

    /// Subscribes a durable consumer group to durable events matching `pattern`: at-least-once
    /// delivery, acknowledged when `handler` returns, retried with backoff when it throws, and
    /// dead-lettered after the runtime's `[bus] max_attempts` deliveries (`maxAttempts` is
    /// reserved for a later ABI and must be 0).
    @discardableResult
    public func subscribe(_ pattern: String, group: String, maxAttempts: Int = 0,
                          _ handler: @escaping @PluginActor (Event) async throws -> Void) throws -> Subscription {
        let box = SubscriptionBox(bridge: bridge, durable: handler)
        return try add(pattern, queueLimit: 0, overflow: .dropOldest, group: group, maxAttempts: maxAttempts, box: box)
    }

    private func add(_ pattern: String, queueLimit: Int, overflow: OverflowPolicy, group: String?, maxAttempts: Int,
                     box: SubscriptionBox) throws -> Subscription {
        guard bridge.has(\.subscribe) else { throw PluginError.unsupported("the event bus (runtime ABI 1.0)") }
        // The pattern and group cross as C strings: a NUL would silently cut them short.
        for (name, text) in [("pattern", pattern), ("group", group ?? "")] {
            if let index = text.utf8.firstIndex(of: 0) {
                throw PluginError.busRefused("\(name) contains character U+0000 (NUL) at byte \(text.utf8.distance(from: text.utf8.startIndex, to: index) + 1); topics and groups are printable text")
            }
        }
        var message = [CChar](repeating: 0, count: 256)
        let id = pattern.withCString { patternC in
            (group ?? "").withCString { groupC in
                message.withUnsafeMutableBufferPointer { buffer -> UInt64 in
                    var options = plexus_subscription_options(struct_size: UInt32(MemoryLayout<plexus_subscription_options>.size),
                                                              queue_limit: UInt32(clamping: queueLimit), overflow_policy: overflow.rawValue,
                                                              durable_group: group == nil ? nil : groupC, max_attempts: UInt32(clamping: maxAttempts))
                    var error = plexus_error(message: buffer.baseAddress, capacity: buffer.count)
                    return bridge.host.pointee.subscribe(bridge.host, patternC, &options, SubscriptionBox.deliver,
                                                         Unmanaged.passUnretained(box).toOpaque(), &error)
                }
            }
        }
        guard id != 0 else {
            throw PluginError.busRefused(String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)).withLastStatus()
        }
        box.id = id
        handlers[id] = box
        return Subscription(id: id, bus: self)
    }

    func cancel(_ id: UInt64) {
        guard handlers.removeValue(forKey: id) != nil else { return }
        bridge.host.pointee.unsubscribe(bridge.host, id)
    }

    /// Cancels every subscription (the SDK calls it when the plugin stops).
    public func cancelAll() {
        for id in Array(handlers.keys) { cancel(id) }
    }

    static func withEvent<R>(_ topic: String, _ payload: [UInt8], _ contentType: String, _ tenant: String, _ priority: Int,
                             _ correlationID: String?, _ causationID: String?, _ schemaVersion: Int,
                             _ body: (UnsafePointer<plexus_event>) -> R) -> R {
        var pack = BytePack([topic, tenant, contentType, correlationID ?? "", causationID ?? ""])
        pack.append(payload)
        return pack.withBytes { bytes in
            var event = plexus_event()
            event.struct_size = UInt32(MemoryLayout<plexus_event>.size)
            event.topic = bytes[0]
            event.tenant = bytes[1]
            event.content_type = bytes[2]
            event.correlation_id = bytes[3]
            event.causation_id = bytes[4]
            event.payload = bytes[5]
            event.priority = Int32(clamping: priority)
            event.schema_version = UInt32(clamping: schemaVersion)
            return body(&event)
        }
    }
}

/// A live subscription; ``cancel()`` ends it.
@PluginActor
public struct Subscription {
    /// The runtime's id for it.
    public let id: UInt64
    weak var bus: Bus?

    /// Stops delivery.
    public func cancel() { bus?.cancel(id) }
}

/// Keeps a handler alive while the runtime may call it, and settles durable deliveries.
@PluginActor
final class SubscriptionBox {
    let bridge: HostBridge
    let live: (@PluginActor (Event) -> Void)?
    let durable: (@PluginActor (Event) async throws -> Void)?
    var id: UInt64 = 0

    init(bridge: HostBridge, live: @escaping @PluginActor (Event) -> Void) {
        self.bridge = bridge
        self.live = live
        self.durable = nil
    }

    init(bridge: HostBridge, durable: @escaping @PluginActor (Event) async throws -> Void) {
        self.bridge = bridge
        self.live = nil
        self.durable = durable
    }

    nonisolated static let deliver: plexus_event_handler = { user, raw in
        let box = Unmanaged<SubscriptionBox>.fromOpaque(user!).takeUnretainedValue()
        let event = Event(raw!.pointee)
        PluginActor.runOnLoop { box.handle(event) }
    }

    func handle(_ event: Event) {
        if let live {
            live(event)
            return
        }
        guard let durable else { return }
        Task { @PluginActor in
            do {
                try await durable(event)
                settle(event.id, success: true, reason: nil)
            } catch {
                settle(event.id, success: false, reason: "\(error)")
            }
        }
    }

    private func settle(_ eventID: String, success: Bool, reason: String?) {
        var id = eventID
        id.withUTF8 { bytes in
            let raw = plexus_bytes(data: UnsafeRawPointer(bytes.baseAddress)?.assumingMemoryBound(to: CChar.self), length: bytes.count)
            if let reason {
                reason.withCString { bridge.host.pointee.ack(bridge.host, self.id, raw, 0, $0) }
            } else {
                bridge.host.pointee.ack(bridge.host, self.id, raw, 1, nil)
            }
        }
    }
}

/// Resumes a `publish` call when the runtime reports the outcome.
final class PublishBox: @unchecked Sendable {
    let continuation: CheckedContinuation<String, Error>

    init(_ continuation: CheckedContinuation<String, Error>) { self.continuation = continuation }

    static let completed: plexus_publish_cb = { user, status, detail in
        let box = Unmanaged<PublishBox>.fromOpaque(user!).takeRetainedValue()
        let text = detail.map { String(cString: $0) } ?? ""
        if status == Int32(PLEXUS_OK.rawValue) {
            box.continuation.resume(returning: text)
        } else {
            box.continuation.resume(throwing: PluginError.busRefused(text).withLastStatus())
        }
    }
}
