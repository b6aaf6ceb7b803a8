import Foundation
import PlexusSDK
import WorkflowEngine

/// Events, signals, cancels, children, and what the plugin publishes about instances.
extension WorkflowRunner {
    // MARK: Events and signals

    func subscribe(_ topic: String) {
        guard topicSubscriptions[topic] == nil else { return }
        do {
            topicSubscriptions[topic] = try context.bus.subscribe(topic) { [weak self] event in self?.received(event) }
        } catch {
            context.logger.error("cannot wait for events", metadata: ["topic": "\(topic)", "error": "\(error)"])
        }
    }

    func received(_ event: Event) {
        let payload = JSON.parse(event.payload) ?? .string(String(decoding: event.payload, as: UTF8.self))
        for (key, wait) in eventWaits where TopicPattern.matches(wait.topic, event.topic) {
            if let path = wait.path, path.read(payload) != (wait.equals ?? .null) { continue }
            guard let instance = live[wait.instance], instance.row.tenant.isEmpty || instance.row.tenant == event.tenant || event.tenant.isEmpty else { continue }
            eventWaits[key] = nil
            append(instance, [HistoryEvent(.eventReceived, step: wait.step, data: payload, name: event.id, time: epochMilliseconds())],
                   release: ["event:\(wait.step)"])
        }
    }

    /// Appends a signal to a running instance.
    func signal(_ instance: LiveInstance, name: String, payload: JSON) {
        append(instance, [HistoryEvent(.signalReceived, data: payload, name: name, time: epochMilliseconds())])
    }

    /// Asks a running instance to stop and compensate.
    func cancel(_ instance: LiveInstance, reason: String) {
        append(instance, [HistoryEvent(.cancelRequested, error: reason, time: epochMilliseconds())])
        // Its running children are cancelled with it (each compensates its own steps).
        for child in live.values where child.row.parent == instance.id && !child.isOver
            && !child.history.contains(where: { $0.kind == .cancelRequested }) {
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
