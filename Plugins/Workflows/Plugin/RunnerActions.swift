import Foundation
import PlexusSDK
import WorkflowEngine

/// Evaluating an instance and carrying out what the interpreter asks for.
extension WorkflowRunner {
    // MARK: Evaluation and actions

    /// Evaluates `instance` over its durable history and starts what it asks for.
    func advance(_ instance: LiveInstance) {
        guard !stopped else { return }
        // Not run here any more, or its lease may have expired: no further effects (the lease holder runs it).
        guard holdsLease(instance) else { return }
        let evaluation = Interpreter.evaluate(instance.definition, instanceID: instance.id, history: instance.history, now: epochMilliseconds(),
                                              cache: &instance.cache)
        instance.evaluation = evaluation
        if instance.isOver {
            finish(instance)
            return
        }
        var records: [HistoryEvent] = []
        for action in evaluation.actions {
            let key = action.key
            if case var .record(event) = action {
                guard !instance.queuedKeys.contains(key) else { continue }
                instance.queuedKeys.insert(key)
                event.time = epochMilliseconds()
                records.append(event)
                continue
            }
            let flight = "\(instance.id)|\(key)"
            guard !inFlight.contains(flight) else { continue }
            inFlight.insert(flight)
            perform(action, instance)
        }
        append(instance, records)
    }

    func perform(_ action: Action, _ instance: LiveInstance) {
        let key = action.key
        switch action {
        case .record: break
        case let .call(step, attempt, call, payload, _):
            Task { await self.invoke(instance, step: step, attempt: attempt, call: call, payload: payload, key: key, compensation: false) }
        case let .compensate(step, attempt, call, payload, _):
            Task { await self.invoke(instance, step: step, attempt: attempt, call: call, payload: payload, key: key, compensation: true) }
        case let .wake(_, at, record):
            let delay = max(0, at - epochMilliseconds())
            context.timers.schedule(after: .milliseconds(delay)) { [weak self, weak instance] in
                guard let self, let instance else { return }
                self.woke(instance, key: key, record: record)
            }
        case let .waitEvent(step, topic, path, equals):
            // Only events published once the wait started count (a durable group may hand over older ones after a gap).
            let since = instance.history.last(where: { $0.kind == .waitStarted && $0.step == step })?.time ?? epochMilliseconds()
            eventWaits["\(instance.id)|\(step)"] = (instance.id, step, topic, path, equals, since)
            subscribe(topic)
        case .waitSignal:
            break   // signals arrive through the API and are appended there
        case let .publish(step, topic, payload):
            Task {
                guard self.holdsLease(instance) else { return }
                do {
                    try await self.context.bus.publish(topic, payload: payload.bytes, contentType: "application/json", tenant: instance.row.tenant,
                                                       correlationID: instance.id)
                    self.append(instance, [HistoryEvent(.stepCompleted, step: step, time: epochMilliseconds())], release: [key])
                } catch {
                    self.append(instance, [HistoryEvent(.stepFailed, step: step, attempt: 1, error: "step '\(step)': publishing on '\(topic)' failed: \(error)",
                                                        failure: .failed, time: epochMilliseconds())], release: [key])
                }
            }
        case let .startChild(step, childID, workflow, input):
            Task {
                guard self.holdsLease(instance) else { return }
                do {
                    _ = try await self.start(tenant: instance.row.tenant, name: workflow, input: input, idempotencyKey: nil, id: childID,
                                             parent: (instance.id, step))
                    self.append(instance, [HistoryEvent(.childStarted, step: step, name: childID, time: epochMilliseconds())], release: [key])
                } catch {
                    self.append(instance, [HistoryEvent(.stepFailed, step: step, attempt: 1, error: "step '\(step)': child workflow '\(workflow)' could not start: \(Self.describe(error))",
                                                        failure: .workflow, time: epochMilliseconds())], release: [key])
                }
            }
        case let .awaitChild(step, childID):
            childWaiters[childID] = (instance.id, step)
            Task { await self.checkChild(childID) }
        }
    }

    /// One attempt of a call or compensation; its outcome is appended, then the key is released.
    func invoke(_ instance: LiveInstance, step: String, attempt: Int, call: ServiceCall, payload: JSON, key: String, compensation: Bool) async {
        guard holdsLease(instance) else { return }
        let started = monotonicSeconds()
        var event: HistoryEvent
        do {
            let reply = try await context.services.call(call.service, payload: payload.bytes, timeout: .milliseconds(call.timeoutMilliseconds))
            if let json = reply.isEmpty ? JSON.null : JSON.parse(reply) {
                event = HistoryEvent(compensation ? .compensated : .stepCompleted, step: step, attempt: attempt, data: compensation ? nil : json, time: 0)
            } else {
                event = HistoryEvent(compensation ? .compensationFailed : .stepFailed, step: step, attempt: attempt,
                                     error: "step '\(step)': service '\(call.service)' answered something that is not JSON: \(String(decoding: reply.prefix(60), as: UTF8.self))",
                                     failure: .garbage, time: 0)
            }
        } catch {
            let (kind, message) = Self.classify(error, call: call, step: step)
            event = HistoryEvent(compensation ? .compensationFailed : .stepFailed, step: step, attempt: attempt, error: message, failure: kind, time: 0)
        }
        event.time = epochMilliseconds()
        let outcome = event.kind == .stepCompleted || event.kind == .compensated ? "ok" : (event.failure?.rawValue ?? "failed")
        metrics.stepSeconds.observe(monotonicSeconds() - started, labels: [instance.row.workflow])
        metrics.steps.increment(labels: [instance.row.workflow, compensation ? "compensation" : "step", outcome])
        append(instance, [event], release: [key])
    }

    /// Why a call failed, as a kind and a message that names the step, the service and, when no one offers it, the plugin.
    static func classify(_ error: Error, call: ServiceCall, step: String) -> (FailureKind, String) {
        let text = "\(error)"
        let status = (error as? PluginError)?.status
        if status == .notFound || text.contains("no running plugin offers") || text.contains("no plugin offers it") {
            return (.missing, "step '\(step)': service '\(call.service)' is not offered: plugin '\(call.plugin)' is not loaded")
        }
        if status == .timeout || text.contains("did not answer within") || text.contains("no reply within") {
            return (.timeout, "step '\(step)': service '\(call.service)' did not answer within \(call.timeoutMilliseconds) ms")
        }
        return (.failed, "step '\(step)': service '\(call.service)' failed: \(text.prefix(300))")
    }

    static func describe(_ error: Error) -> String {
        if let http = error as? HTTPError { return http.detail }
        return "\(error)"
    }

    /// A wake fired: append its entry if the instance still asks for it, else just evaluate again.
    func woke(_ instance: LiveInstance, key: String, record: HistoryEvent?) {
        inFlight.remove("\(instance.id)|\(key)")
        guard holdsLease(instance) else { return }
        guard var record else { advance(instance); return }
        let evaluation = Interpreter.evaluate(instance.definition, instanceID: instance.id, history: instance.history, now: epochMilliseconds(),
                                              cache: &instance.cache)
        guard evaluation.actions.contains(where: { $0.key == key }) else { advance(instance); return }
        record.time = epochMilliseconds()
        eventWaits["\(instance.id)|\(record.step ?? "")"] = nil
        append(instance, [record])
    }
}
