import CPlexusABI
import Foundation
import PlexusEventLog

/// The ABI 1.1 entries of the host vtable: publish/subscribe and request/reply.
extension PluginHostTable {
    static func installBus(into host: inout plexus_host) {
        host.publish = { host, event, flags, done, user, error in
            let plugin = PluginInstance.from(host)
            guard let event, Int(event.pointee.struct_size) >= MemoryLayout<plexus_event>.size else {
                return PluginHostTable.fail(HostCallFailure(PLEXUS_E_INVALID_ARGUMENT, "event is missing or smaller than ABI 1.1's plexus_event"), to: error)
            }
            let envelope = EventView.envelope(from: event.pointee, source: plugin.name)
            do {
                _ = try Topic.validate(envelope.topic)
            } catch let invalid {
                return PluginHostTable.fail(HostCallFailure(PLEXUS_E_INVALID_ARGUMENT, "\(invalid)"), to: error)
            }
            let reservations = plugin.services.events.reservations
            if let refusal = reservations.refusal(of: envelope.topic, by: .plugin(plugin.name)) {
                return PluginHostTable.fail(HostCallFailure(PLEXUS_E_REFUSED, refusal), to: error)
            }
            if let undeclared = reservations.undeclared(envelope.topic, by: plugin.name) {
                plugin.services.metrics?.counter("plexus_bus_undeclared_publishes_total", [("plugin", plugin.name)],
                                                 help: "Publishes by a plugin on topics its manifest does not declare (refused in debug builds)").increment()
                if TopicReservations.refusesUndeclaredPublishes {
                    return PluginHostTable.fail(HostCallFailure(PLEXUS_E_REFUSED, undeclared), to: error)
                }
            }
            nonisolated(unsafe) let user = user
            let owner = plugin.name
            // A non-durable publish completes at once: the gate moves `done` after this call's return.
            let gate = CallbackGate(loop: plugin.services.loop)
            plugin.services.events.publish(envelope, durable: flags & 1 != 0) { result in
                guard let done else { return }
                gate.deliver {
                    Blame.mark(name: owner, what: "publish callback \(envelope.topic)")
                    defer { Blame.clear() }
                    switch result {
                    case .success(let published):
                        HostCallStatus.set(PLEXUS_OK)
                        published.id.description.withCString { done(user, Int32(PLEXUS_OK.rawValue), $0) }
                    case .failure(let failure):
                        HostCallStatus.set(PLEXUS_E_REFUSED)
                        "\(failure)".withCString { done(user, Int32(PLEXUS_ERROR.rawValue), $0) }
                    }
                }
            }
            gate.open()
            HostCallStatus.set(PLEXUS_OK)
            return Int32(PLEXUS_OK.rawValue)
        }
        host.subscribe = { host, pattern, options, handler, user, error in
            let plugin = PluginInstance.from(host)
            guard let pattern, let handler else {
                _ = PluginHostTable.fail(HostCallFailure(PLEXUS_E_INVALID_ARGUMENT, "subscribe needs a pattern and a handler"), to: error)
                return 0
            }
            guard !plugin.isRetired else {
                _ = PluginHostTable.fail(HostCallFailure(PLEXUS_E_WRONG_STATE, "plugin '\(plugin.name)' has failed or stopped"), to: error)
                return 0
            }
            let parsed: TopicPattern
            do {
                parsed = try TopicPattern(String(cString: pattern))
            } catch let invalid {
                _ = PluginHostTable.fail(HostCallFailure(PLEXUS_E_INVALID_ARGUMENT, "\(invalid)"), to: error)
                return 0
            }
            var limit = 0, overflow = BusSubscription.Overflow.dropOldest, group: String?, attempts = 0
            if let options, Int(options.pointee.struct_size) >= MemoryLayout<plexus_subscription_options>.offset(of: \.ready)! {
                limit = Int(options.pointee.queue_limit)
                overflow = options.pointee.overflow_policy == Int32(PLEXUS_OVERFLOW_DROP_NEWEST.rawValue) ? .dropNewest : .dropOldest
                group = options.pointee.durable_group.map { String(cString: $0) }
                attempts = Int(options.pointee.max_attempts)
            }
            let ready = SubscriptionReadiness(options: options)
            nonisolated(unsafe) let user = user
            let owner = plugin.name, patternText = String(cString: pattern)
            let gate = CallbackGate(loop: plugin.services.loop)
            let deliver: (EventEnvelope) -> Void = { envelope in
                gate.deliver {
                    Blame.mark(name: owner, what: "bus delivery \(envelope.topic) (subscription \(patternText))")
                    defer { Blame.clear() }
                    EventView.with(envelope) { handler(user, $0) }
                }
            }
            defer { gate.open() }
            do {
                let events = plugin.services.events
                let id = try events.subscribe(parsed, owner: plugin.name, queueLimit: limit == 0 ? nil : limit, overflow: overflow,
                                              durableGroup: group, maxAttempts: attempts,
                                              ready: ready.map { ready in { failure in gate.deliver { ready.call(owner: owner, events: events, failure: failure) } } },
                                              deliver: deliver)
                ready?.subscription = id
                HostCallStatus.set(PLEXUS_OK)
                return id
            } catch let refused {
                _ = PluginHostTable.fail(HostCallFailure(PLEXUS_E_REFUSED, "\(refused)"), to: error)
                return 0
            }
        }
        host.unsubscribe = { host, id in
            defer { HostCallStatus.set(PLEXUS_OK) }
            PluginInstance.from(host).services.events.unsubscribe(id)
        }
        host.ack = { host, subscription, eventID, success, reason in
            defer { HostCallStatus.set(PLEXUS_OK) }
            let plugin = PluginInstance.from(host)
            let id = eventID.data.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: eventID.length), as: UTF8.self) } ?? ""
            plugin.services.events.settle(subscription: subscription, eventID: id, success: success != 0,
                                          reason: reason.map { String(cString: $0) } ?? "handler reported failure")
        }
        host.service_register = { host, name, handler, user, error in
            let plugin = PluginInstance.from(host)
            guard let name, let handler else {
                return PluginHostTable.fail(HostCallFailure(PLEXUS_E_INVALID_ARGUMENT, "service_register needs a name and a handler"), to: error)
            }
            guard !plugin.isRetired else {
                return PluginHostTable.fail(HostCallFailure(PLEXUS_E_WRONG_STATE, "plugin '\(plugin.name)' has failed or stopped"), to: error)
            }
            if let problem = plugin.services.serviceRegistry.register(String(cString: name), .init(plugin: plugin, handler: handler, user: user)) {
                return PluginHostTable.fail(problem, to: error)
            }
            HostCallStatus.set(PLEXUS_OK)
            return Int32(PLEXUS_OK.rawValue)
        }
        host.service_call = { host, name, payload, timeout, reply, user in
            let plugin = PluginInstance.from(host)
            guard let reply else { return HostCallStatus.set(PLEXUS_E_INVALID_ARGUMENT) }
            HostCallStatus.set(PLEXUS_OK)
            let bytes = payload.data.map { Array(UnsafeRawBufferPointer(start: $0, count: payload.length)) } ?? []
            plugin.services.serviceRegistry.call(name.map { String(cString: $0) } ?? "", caller: plugin, payload: bytes,
                                                 timeoutMilliseconds: timeout, reply: reply, user: user)
        }
        host.service_reply = { host, token, status, payload in
            defer { HostCallStatus.set(PLEXUS_OK) }
            PluginInstance.from(host).services.serviceRegistry.reply(token: token, status: status, payload: payload)
        }
    }
}
