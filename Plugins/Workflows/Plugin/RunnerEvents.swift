import Foundation
import PlexusSDK
import WorkflowEngine

/// Events, signals, cancels, children, and what the plugin publishes about instances.
extension WorkflowRunner {
    // MARK: Events and signals

    /// Waits on `topic` both live (events published without `durable`) and through a durable
    /// consumer group (events published durably, also those published while this plugin was down:
    /// the group's cursor stays in the runtime's event log). The group is subscribed only once every
    /// unfinished instance resumed, so an event missed while down finds the wait it belongs to.
    func subscribe(_ topic: String) {
        if topicSubscriptions[topic] == nil {
            do {
                topicSubscriptions[topic] = try context.bus.subscribe(topic) { [weak self] event in self?.received(event) }
            } catch {
                context.logger.error("cannot wait for events", metadata: ["topic": "\(topic)", "error": "\(error)"])
            }
        }
        guard durableSubscriptions[topic] == nil else { return }
        guard resumed else {
            pendingDurableTopics.insert(topic)
            return
        }
        do {
            durableSubscriptions[topic] = try context.bus.subscribe(topic, group: Self.waitGroup(topic)) { [weak self] event in
                try await self?.receivedDurably(event)
            }
        } catch {
            context.logger.error("cannot wait durably for events", metadata: ["topic": "\(topic)", "error": "\(error)"])
        }
    }

    /// The durable consumer group of waits on `topic`: `workflows-wait-` and a 64-bit FNV-1a of the topic
    /// (group names allow only `A-Z a-z 0-9 _ -`; the same topic always gets the same group, across restarts).
    static func waitGroup(_ topic: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in topic.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let hex = String(hash, radix: 16)
        return "workflows-wait-" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// Subscribes the durable groups deferred until the resume finished.
    func subscribeDeferredGroups() {
        resumed = true
        let topics = pendingDurableTopics
        pendingDurableTopics = []
        for topic in topics.sorted() { subscribe(topic) }
    }

    /// A durable delivery: acknowledged (by returning) only once the entry it caused is in storage;
    /// an event no wait matches (or one a live delivery already recorded durably) is acknowledged at once.
    func receivedDurably(_ event: Event) async throws {
        received(event)
        guard pendingEvents[event.id] != nil else { return }
        guard !stopped else { throw EventNotRecorded(reason: "workflows is stopping; the event is delivered again") }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            let waiter = DurableWaiter(continuation)
            pendingEvents[event.id]?.waiters.append(waiter)
            // Refused (so delivered again later) when the commit keeps failing past the deadline.
            waiter.expire(after: Self.durableDeadline, timers: context.timers) { [unowned self] in
                EventNotRecorded(reason: "its entry was not stored within \(Self.durableDeadline.components.seconds) s: \(lastCommitError ?? "the commit has not finished")")
            }
        }
    }

    func received(_ event: Event) {
        let payload = JSON.parse(event.payload) ?? .string(String(decoding: event.payload, as: UTF8.self))
        let published = Int64((event.time.timeIntervalSince1970 * 1000).rounded(.down))
        for (key, wait) in eventWaits where TopicPattern.matches(wait.topic, event.topic) && published >= wait.since {
            if let path = wait.path, path.read(payload) != (wait.equals ?? .null) { continue }
            guard let instance = live[wait.instance], instance.row.tenant.isEmpty || instance.row.tenant == event.tenant || event.tenant.isEmpty else { continue }
            eventWaits[key] = nil
            pendingEvents[event.id, default: (0, [])].entries += 1
            append(instance, [HistoryEvent(.eventReceived, step: wait.step, data: payload, name: event.id, time: epochMilliseconds())],
                   release: ["event:\(wait.step)"])
        }
    }

    /// Called with the entries of a successful commit: frees durable deliveries waiting for them.
    func eventsCommitted(_ events: [HistoryEvent]) {
        for event in events where event.kind == .eventReceived {
            guard let id = event.name, var pending = pendingEvents[id] else { continue }
            pending.entries -= 1
            if pending.entries > 0 {
                pendingEvents[id] = pending
                continue
            }
            pendingEvents[id] = nil
            for waiter in pending.waiters { waiter.resume() }
        }
    }

    /// Stops: durable deliveries still waiting for a commit are refused (the runtime delivers them again).
    func stop() {
        stopped = true
        let waiting = pendingEvents.values.flatMap(\.waiters)
        pendingEvents = [:]
        for waiter in waiting { waiter.resume(throwing: EventNotRecorded(reason: "workflows stopped before the event was recorded")) }
        for instance in live.values {
            let waiters = instance.durableWaiters
            instance.durableWaiters = []
            for waiter in waiters { waiter.resume(throwing: HTTPError.unavailable("workflows stopped before the entry was stored")) }
        }
    }

    /// Appends a signal to a running instance (`key`: its sender's idempotency key, if any).
    func signal(_ instance: LiveInstance, name: String, payload: JSON, key: String? = nil) {
        append(instance, [HistoryEvent(.signalReceived, data: payload, name: name, key: key, time: epochMilliseconds())])
    }

    /// Asks a running instance to stop and compensate.
    func cancel(_ instance: LiveInstance, reason: String) {
        append(instance, [HistoryEvent(.cancelRequested, error: reason, time: epochMilliseconds())])
        // Its running children are cancelled with it (each compensates its own steps).
        for child in live.values where child.row.parent == instance.id && !child.isOver && !child.cancelAsked {
            cancel(child, reason: "parent \(instance.id) was cancelled")
        }
    }

    // MARK: Children and the end

    /// Appends a child's outcome to its waiting parent once the child is over.
    func checkChild(_ childID: String) async {
        guard let waiter = childWaiters[childID], let parent = live[waiter.parent] else { return }
        var terminal: HistoryEvent?
        if let child = live[childID] { terminal = child.history.last.flatMap { $0.isTerminal ? $0 : nil } }
        else if let history = try? await store.history(childID) { terminal = history.last.flatMap { $0.isTerminal ? $0 : nil } }
        guard let terminal, childWaiters[childID] != nil else { return }
        childWaiters[childID] = nil
        let event = terminal.kind == .completed
            ? HistoryEvent(.stepCompleted, step: waiter.step, data: terminal.data, name: childID, time: epochMilliseconds())
            : HistoryEvent(.stepFailed, step: waiter.step, attempt: 1, error: "step '\(waiter.step)': child workflow \(childID) \(terminal.kind.rawValue): \(terminal.error ?? "")",
                           failure: .workflow, name: childID, time: epochMilliseconds())
        append(parent, [event], release: ["await:\(waiter.step)"])
    }

    func finish(_ instance: LiveInstance) {
        guard live[instance.id] === instance else { return }
        live[instance.id] = nil
        metrics.running.set(Double(live.count))
        let prefix = instance.id + "|"
        for key in eventWaits.keys where key.hasPrefix(prefix) { eventWaits[key] = nil }
        inFlight.removeAll(of: instance.id)
        if childWaiters[instance.id] != nil { Task { await self.checkChild(instance.id) } }
    }

    /// Publishes the events of newly durable entries and counts finished instances.
    func announce(_ instance: LiveInstance, _ events: [HistoryEvent]) async {
        for event in events {
            switch event.kind {
            case .stepCompleted:
                await publish("workflow.step.completed", instance, step: event.step, extra: ["attempt": .number(Double(event.attempt ?? 1))])
            case .stepFailed:
                await publish("workflow.step.failed", instance, step: event.step,
                              extra: ["attempt": .number(Double(event.attempt ?? 1)), "error": .string(event.error ?? ""), "kind": .string(event.failure?.rawValue ?? "")])
            case .compensated:
                await publish("workflow.compensated", instance, step: event.step, extra: [:])
            case .completed:
                metrics.completed.increment(labels: [instance.row.workflow])
                await publish("workflow.completed", instance, step: nil, extra: ["output": event.data ?? .null])
            case .failed:
                metrics.failed.increment(labels: [instance.row.workflow])
                await publish("workflow.failed", instance, step: nil, extra: ["error": .string(event.error ?? "")])
            case .cancelled:
                metrics.cancelled.increment(labels: [instance.row.workflow])
                await publish("workflow.cancelled", instance, step: nil, extra: ["error": .string(event.error ?? "")])
            default: break
            }
        }
    }

    func publish(_ topic: String, _ instance: LiveInstance, step: String?, extra: [String: JSON]) async {
        var fields = extra
        fields["instance"] = .string(instance.id)
        fields["workflow"] = .string(instance.row.workflow)
        fields["version"] = .number(Double(instance.row.version))
        if let step { fields["step"] = .string(step) }
        do {
            try await context.bus.publish(topic, payload: JSON.object(fields).bytes, contentType: "application/json", tenant: instance.row.tenant,
                                          correlationID: instance.id)
        } catch {
            context.logger.warning("workflow event not published", metadata: ["topic": "\(topic)", "error": "\(error)"])
        }
    }
}

/// A durable delivery refused because its entry could not be stored yet (the runtime retries it).
struct EventNotRecorded: Error, CustomStringConvertible {
    let reason: String
    var description: String { reason }
}
