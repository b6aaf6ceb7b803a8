import Foundation
import PlexusSDK
import WorkflowEngine

/// Runs instances: appends their entries to storage (group commit: every entry queued while one
/// commit runs goes into the next), evaluates them with the ``Interpreter`` once the entries are
/// durable, and carries out the actions: service calls, timers, waits, publishes, children.
@PluginActor
final class WorkflowRunner {
    let context: PluginContext
    let store: WorkflowStore
    let metrics: WorkflowMetrics
    let parser: DefinitionParser
    /// Instances not over, by id.
    var live: [String: LiveInstance] = [:]
    /// Action keys (`instance|key`) whose effect is under way.
    var inFlight = InFlight()
    /// Instances with entries queued for the next commit, in queue order.
    var dirty: [String] = []
    var committing = false
    /// Event waits by instance id and step.
    var eventWaits: [String: (instance: String, step: String, topic: String, path: JSONPath?, equals: JSON?)] = [:]
    var topicSubscriptions: [String: Subscription] = [:]
    /// Parents waiting for a child, by child id.
    var childWaiters: [String: (parent: String, step: String)] = [:]
    /// Definitions parsed, by tenant/name/version.
    var definitionCache: [String: Definition] = [:]
    /// The newest version of each workflow by tenant/name (emptied whenever a definition is stored).
    var latestCache: [String: (tenant: String, version: Int)] = [:] { didSet { if latestCache.isEmpty { cacheGeneration += 1 } } }
    /// Bumped when the cache is emptied: a lookup that raced with a new definition is not cached.
    var cacheGeneration = 0
    var stopped = false

    init(context: PluginContext, store: WorkflowStore, metrics: WorkflowMetrics, parser: DefinitionParser) {
        self.context = context
        self.store = store
        self.metrics = metrics
        self.parser = parser
    }

    // MARK: Starting and resuming

    /// The definition `version` of `name` owned by `tenant`, parsed once.
    func definition(owner: String, name: String, version: Int) async throws -> Definition {
        let key = "\(owner)/\(name)/\(version)"
        if let cached = definitionCache[key] { return cached }
        guard let body = try await store.definition(tenant: owner, name: name, version: version) else {
            throw HTTPError.notFound("no version \(version) of workflow '\(name)'")
        }
        let parsed = try parser.parse(Array(body.utf8))
        definitionCache[key] = parsed
        return parsed
    }

    /// Starts an instance of the newest version of `name`; with an idempotency key already used, returns that instance.
    func start(tenant: String, name: String, input: JSON, idempotencyKey: String?, id: String? = nil,
               parent: (id: String, step: String)? = nil) async throws -> (row: InstanceRow, created: Bool) {
        if let idempotencyKey, let existing = try await store.instance(tenant: tenant, workflow: name, idempotencyKey: idempotencyKey) {
            return (existing, false)
        }
        if let id, let existing = try await store.instance(id: id) { return (existing, false) }
        let latest: (tenant: String, version: Int)
        if let cached = latestCache["\(tenant)/\(name)"] {
            latest = cached
        } else {
            let generation = cacheGeneration
            guard let found = try await store.latestDefinition(tenant: tenant, name: name) else {
                throw HTTPError.notFound("no workflow named '\(name)'; POST its definition to /api/v1/workflows/definitions first")
            }
            latest = (found.tenant, found.version)
            if generation == cacheGeneration { latestCache["\(tenant)/\(name)"] = latest }
        }
        let definition = try await self.definition(owner: latest.tenant, name: name, version: latest.version)
        guard input.object != nil else { throw HTTPError.unprocessable("field 'input': a workflow's input is a JSON object, not \(input.typeName)") }
        for field in definition.inputFields where input[field] == nil {
            throw HTTPError.unprocessable("field 'input.\(field)' is missing; workflow '\(name)' needs \(definition.inputFields.joined(separator: ", "))")
        }
        let now = epochMilliseconds()
        let row = InstanceRow(id: id ?? Self.newID(), tenant: tenant, workflow: name, version: latest.version, status: "running",
                              idempotencyKey: idempotencyKey, parent: parent?.id, parentStep: parent?.step, created: now)
        let started = HistoryEvent(.started, data: input, name: latest.tenant.isEmpty ? nil : latest.tenant, time: now)
        do {
            try await store.transaction([store.insertInstance(row), store.insertEntry(row.id, 0, started)])
        } catch let failure as StorageFailure where failure.kind == .constraint || failure.kind == .conflict {
            // Another start with the same key won the race: answer with its instance.
            if let idempotencyKey, let existing = try await store.instance(tenant: tenant, workflow: name, idempotencyKey: idempotencyKey) {
                return (existing, false)
            }
            throw failure
        }
        let instance = LiveInstance(row: row, definition: definition, history: [started])
        live[row.id] = instance
        metrics.running.set(Double(live.count))
        await publish("workflow.started", instance, step: nil, extra: ["input": input])
        advance(instance)
        return (row, true)
    }

    /// Resumes every unfinished instance from its history (after a restart or crash).
    func resumeAll() async throws -> Int {
        var resumed = 0
        for row in try await store.unfinished() where live[row.id] == nil {
            let history = try await store.history(row.id)
            let owner = history.first?.name ?? ""
            guard let definition = try? await definition(owner: owner, name: row.workflow, version: row.version) else {
                context.logger.error("instance cannot resume: its definition is gone", metadata: ["instance": "\(row.id)", "workflow": "\(row.workflow)"])
                continue
            }
            let instance = LiveInstance(row: row, definition: definition, history: history)
            live[row.id] = instance
            resumed += 1
        }
        metrics.running.set(Double(live.count))
        for instance in Array(live.values) { advance(instance) }
        return resumed
    }

    static func newID() -> String {
        var bytes = [UInt8](repeating: 0, count: 10)
        for index in bytes.indices { bytes[index] = UInt8.random(in: 0...255) }
        return "wf-" + bytes.map { String(format: "%02x", $0) }.joined()
    }

    // MARK: The commit loop

    /// Queues `events` for `instance`; `release` are action keys to free once they are durable.
    func append(_ instance: LiveInstance, _ events: [HistoryEvent], release: [String] = []) {
        guard !events.isEmpty || !release.isEmpty else { return }
        if instance.queued.isEmpty { dirty.append(instance.id) }
        instance.queued += events
        instance.releaseOnCommit += release
        if !committing { Task { await commit() } }
    }

    /// Writes every queued entry in one transaction, then evaluates the instances they belong to.
    func commit() async {
        guard !committing else { return }
        committing = true
        defer { committing = false }
        while !dirty.isEmpty, !stopped {
            let batch = dirty.compactMap { live[$0] }
            dirty = []
            var statements: [(sql: String, parameters: [SQLValue])] = []
            var written: [(LiveInstance, [HistoryEvent], [String])] = []
            let now = epochMilliseconds()
            for instance in batch {
                let events = instance.queued
                let release = instance.releaseOnCommit
                instance.queued = []
                instance.queuedKeys = []
                instance.releaseOnCommit = []
                for (offset, event) in events.enumerated() {
                    statements.append(store.insertEntry(instance.id, instance.history.count + offset, event))
                }
                if let terminal = events.first(where: \.isTerminal) {
                    statements.append(store.updateStatus(instance.id, terminal.kind.rawValue, now: now))
                } else if events.contains(where: { $0.kind == .cancelRequested || $0.kind == .compensationScheduled }) {
                    statements.append(store.updateStatus(instance.id, "compensating", now: now))
                }
                written.append((instance, events, release))
            }
            if !statements.isEmpty {
                do {
                    try await store.transaction(statements)
                } catch {
                    // Nothing was acknowledged: the effects stay un-recorded and run again on the next resume.
                    context.logger.error("history commit failed", metadata: ["error": "\(error)", "instances": "\(written.count)"])
                    for (instance, _, release) in written { for key in release { inFlight.remove("\(instance.id)|\(key)") } }
                    continue
                }
            }
            for (instance, events, release) in written {
                instance.history += events
                for key in release { inFlight.remove("\(instance.id)|\(key)") }
            }
            let announced = written
            Task { for (instance, events, _) in announced { await self.announce(instance, events) } }
            for (instance, _, _) in written { advance(instance) }
        }
    }

    // MARK: Evaluation and actions

    /// Evaluates `instance` over its durable history and starts what it asks for.
    func advance(_ instance: LiveInstance) {
        guard !stopped else { return }
        let evaluation = Interpreter.evaluate(instance.definition, instanceID: instance.id, history: instance.history, now: epochMilliseconds())
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
            eventWaits["\(instance.id)|\(step)"] = (instance.id, step, topic, path, equals)
            subscribe(topic)
        case .waitSignal:
            break   // signals arrive through the API and are appended there
        case let .publish(step, topic, payload):
            Task {
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
        guard live[instance.id] === instance else { return }
        guard var record else { advance(instance); return }
        let evaluation = Interpreter.evaluate(instance.definition, instanceID: instance.id, history: instance.history, now: epochMilliseconds())
        guard evaluation.actions.contains(where: { $0.key == key }) else { advance(instance); return }
        record.time = epochMilliseconds()
        eventWaits["\(instance.id)|\(record.step ?? "")"] = nil
        append(instance, [record])
    }

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

/// Action keys under way, grouped by instance (`instance|key`), so a finished instance drops its own at once.
struct InFlight {
    private var keys: [Substring: Set<Substring>] = [:]

    private static func split(_ key: String) -> (Substring, Substring) {
        let bar = key.firstIndex(of: "|") ?? key.endIndex
        return (key[..<bar], bar < key.endIndex ? key[key.index(after: bar)...] : "")
    }

    func contains(_ key: String) -> Bool {
        let (instance, action) = Self.split(key)
        return keys[instance]?.contains(action) ?? false
    }

    mutating func insert(_ key: String) {
        let (instance, action) = Self.split(key)
        keys[instance, default: []].insert(action)
    }

    mutating func remove(_ key: String) {
        let (instance, action) = Self.split(key)
        keys[instance]?.remove(action)
    }

    mutating func removeAll(of instance: String) { keys[Substring(instance)] = nil }
}
