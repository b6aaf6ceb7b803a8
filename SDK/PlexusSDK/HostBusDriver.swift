import CPlexusABI

/// The bus over the host vtable.
@PluginActor
final class HostBusDriver: BusDriver {
    let bridge: HostBridge
    private var handlers: [UInt64: SubscriptionBox] = [:]

    init(bridge: HostBridge) { self.bridge = bridge }

    func publish(_ draft: EventDraft, durable: Bool) async throws -> String {
        let (topic, payload, contentType, tenant, priority) = (draft.topic, draft.payload, draft.contentType, draft.tenant, draft.priority)
        let (correlationID, causationID, schemaVersion) = (draft.correlationID, draft.causationID, draft.schemaVersion)
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

    func subscribe(_ spec: SubscriptionSpec, _ handler: SubscriptionHandler) throws -> UInt64 {
        try subscribe(spec, handler, ready: nil)
    }

    func subscribe(_ spec: SubscriptionSpec, _ handler: SubscriptionHandler, ready: @escaping @PluginActor (PluginError?) -> Void) throws -> UInt64 {
        try subscribe(spec, handler, ready: Optional(ready))
    }

    /// Subscribes; `ready` goes to the runtime as the ABI 1.10 callback, or runs on the next turn
    /// of the loop when the runtime is older (it cannot tell when a subscription is complete).
    private func subscribe(_ spec: SubscriptionSpec, _ handler: SubscriptionHandler, ready: (@PluginActor (PluginError?) -> Void)?) throws -> UInt64 {
        let (pattern, queueLimit, overflow, group, maxAttempts) = (spec.pattern, spec.queueLimit, spec.overflow, spec.group, spec.maxAttempts)
        let box = SubscriptionBox(bridge: bridge, handler: handler)
        guard bridge.has(\.subscribe) else { throw PluginError.unsupported("the event bus (runtime ABI 1.0)") }
        let runtimeTellsReady = bridge.host.pointee.abi_minor >= 10
        if runtimeTellsReady { box.ready = ready }
        var message = [CChar](repeating: 0, count: 256)
        let id = pattern.withCString { patternC in
            (group ?? "").withCString { groupC in
                message.withUnsafeMutableBufferPointer { buffer -> UInt64 in
                    let user = Unmanaged.passUnretained(box).toOpaque()
                    var options = plexus_subscription_options(struct_size: UInt32(MemoryLayout<plexus_subscription_options>.size),
                                                              queue_limit: UInt32(clamping: queueLimit), overflow_policy: overflow.rawValue,
                                                              durable_group: group == nil ? nil : groupC, max_attempts: UInt32(clamping: maxAttempts),
                                                              ready: box.ready == nil ? nil : SubscriptionBox.readied, ready_user: user)
                    var error = plexus_error(message: buffer.baseAddress, capacity: buffer.count)
                    return bridge.host.pointee.subscribe(bridge.host, patternC, &options, SubscriptionBox.deliver, user, &error)
                }
            }
        }
        guard id != 0 else {
            throw PluginError.busRefused(String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)).withLastStatus()
        }
        box.id = id
        handlers[id] = box
        if let ready, !runtimeTellsReady {
            Task { @PluginActor [weak box] in if box != nil { ready(nil) } }
        }
        return id
    }

    func unsubscribe(_ id: UInt64) {
        guard handlers.removeValue(forKey: id) != nil else { return }
        bridge.host.pointee.unsubscribe(bridge.host, id)
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

/// Keeps a handler alive while the runtime may call it, and settles durable deliveries.
@PluginActor
final class SubscriptionBox {
    let bridge: HostBridge
    let live: (@PluginActor (Event) -> Void)?
    let durable: (@PluginActor (Event) async throws -> Void)?
    var id: UInt64 = 0
    /// Told once the runtime says the subscription is complete (ABI 1.10), or why it is not.
    var ready: (@PluginActor (PluginError?) -> Void)?

    init(bridge: HostBridge, handler: SubscriptionHandler) {
        self.bridge = bridge
        switch handler {
        case .live(let body): (live, durable) = (body, nil)
        case .durable(let body): (live, durable) = (nil, body)
        }
    }

    nonisolated static let deliver: plexus_event_handler = { user, raw in
        let box = Unmanaged<SubscriptionBox>.fromOpaque(user!).takeUnretainedValue()
        let event = Event(raw!.pointee)
        PluginActor.runOnLoop { box.handle(event) }
    }

    /// The ABI 1.10 `ready` callback: the runtime calls it only while the subscription exists, so
    /// the box (kept in the driver's handlers until `unsubscribe`) is alive.
    /// `last_status` other than OK: a change log the subscription needs could not be started.
    nonisolated static let readied: plexus_subscription_ready_cb = { user, id in
        let box = Unmanaged<SubscriptionBox>.fromOpaque(user!).takeUnretainedValue()
        let status = HostStatus.last()
        PluginActor.runOnLoop {
            let ready = box.ready
            box.ready = nil
            guard let status, status != .ok else { return ready?(nil) ?? () }
            ready?(PluginError.subscriptionIncomplete(id, "the change log could not be started (\(status)); the runtime tries again later").withStatus(status))
        }
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
