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
    /// Commits failed in a row (for the retry pause).
    var commitFailures = 0
    /// Why the last history commit failed (nil after a success): named to callers whose entry
    /// was not stored within ``durableDeadline``.
    var lastCommitError: String?
    /// Event waits by instance id and step.
    var eventWaits: [String: (instance: String, step: String, topic: String, path: JSONPath?, equals: JSON?, since: Int64)] = [:]
    var topicSubscriptions: [String: Subscription] = [:]
    /// Durable consumer groups of waited topics, by topic.
    var durableSubscriptions: [String: Subscription] = [:]
    /// Waited topics whose group is subscribed once the resume finished.
    var pendingDurableTopics: Set<String> = []
    /// True once every unfinished instance was resumed (its waits registered).
    var resumed = false
    /// Event ids with `event.received` entries not yet in storage, and the durable deliveries waiting for them.
    var pendingEvents: [String: (entries: Int, waiters: [DurableWaiter])] = [:]
    /// Parents waiting for a child, by child id.
    var childWaiters: [String: (parent: String, step: String)] = [:]
    /// Definitions parsed, by tenant/name/version.
    var definitionCache: [String: Definition] = [:]
    /// The newest version of each workflow by tenant/name (emptied whenever a definition is stored).
    var latestCache: [String: (tenant: String, version: Int)] = [:] { didSet { if latestCache.isEmpty { cacheGeneration += 1 } } }
    /// Bumped when the cache is emptied: a lookup that raced with a new definition is not cached.
    var cacheGeneration = 0
    var stopped = false
    /// On PostgreSQL: instances that stopped running here because their lease was lost (until one
    /// is claimed again), so a signal or cancel for one is refused naming the lost lease.
    var lostLeases: Set<String> = []

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
        let stamped = monotonicSeconds()
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
        instance.leaseSince = stamped
        live[row.id] = instance
        metrics.running.set(Double(live.count))
        await publish("workflow.started", instance, step: nil, extra: ["input": input])
        advance(instance)
        return (row, true)
    }

    /// Resumes every unfinished instance from its history (after a restart or crash). On
    /// PostgreSQL only those it claims: an instance another live plexus instance runs is left to it.
    func resumeAll() async throws -> Int {
        var resumed = 0
        let shared = context.storage.dialect == .postgresql
        for row in try await store.unfinished() where live[row.id] == nil {
            let stamped = monotonicSeconds()
            if shared, !(try await store.claim(row.id, now: epochMilliseconds())) { continue }
            guard let instance = try await resumable(row) else { continue }
            instance.leaseSince = stamped
            lostLeases.remove(row.id)
            live[row.id] = instance
            resumed += 1
        }
        metrics.running.set(Double(live.count))
        for instance in Array(live.values) { advance(instance) }
        subscribeDeferredGroups()
        return resumed
    }

    /// On PostgreSQL, at each heartbeat: takes over the unfinished instances whose owner stopped
    /// sending heartbeats (a plexus instance that crashed, or this one before a restart) and runs
    /// them here. Returns how many.
    func adoptOrphans() async throws -> Int {
        guard !stopped, resumed else { return 0 }
        var adopted: [LiveInstance] = []
        for row in try await store.unfinished() where live[row.id] == nil {
            let stamped = monotonicSeconds()
            guard try await store.claim(row.id, now: epochMilliseconds()), live[row.id] == nil,
                  let instance = try await resumable(row) else { continue }
            instance.leaseSince = stamped
            lostLeases.remove(row.id)
            live[row.id] = instance
            adopted.append(instance)
        }
        guard !adopted.isEmpty else { return 0 }
        metrics.running.set(Double(live.count))
        for instance in adopted { advance(instance) }
        context.logger.notice("workflow instances taken over", metadata: ["instances": "\(adopted.map(\.row.id))"])
        return adopted.count
    }

    /// An unfinished instance rebuilt from its history (nil when its definition is gone).
    private func resumable(_ row: InstanceRow) async throws -> LiveInstance? {
        let history = try await store.history(row.id)
        let owner = history.first?.name ?? ""
        guard let definition = try? await definition(owner: owner, name: row.workflow, version: row.version) else {
            context.logger.error("instance cannot resume: its definition is gone", metadata: ["instance": "\(row.id)", "workflow": "\(row.workflow)"])
            return nil
        }
        return LiveInstance(row: row, definition: definition, history: history)
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
        // An instance no longer run here (its lease lost) takes no entries: the outcome of an
        // effect it started before is dropped; the lease holder runs that step itself.
        guard live[instance.id] === instance else { return }
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
            // An instance whose lease may have expired is dropped here, not written (holdsLease).
            var batch = dirty.compactMap { live[$0] }.filter { holdsLease($0) }
            // Fenced rows are locked in byte order of their ids, as the heartbeat locks them.
            if leased { batch.sort { $0.id.utf8.lexicographicallyPrecedes($1.id.utf8) } }
            dirty = []
            var statements: [(sql: String, parameters: [SQLValue])] = []
            var written: [(LiveInstance, [HistoryEvent], [String], [DurableWaiter])] = []
            let now = epochMilliseconds()
            for instance in batch {
                let events = instance.queued
                let release = instance.releaseOnCommit
                let waiters = instance.durableWaiters
                instance.queued = []
                instance.writing = events
                instance.queuedKeys = []
                instance.releaseOnCommit = []
                instance.durableWaiters = []
                // On PostgreSQL every instance's entries are fenced by its lease: the transaction
                // fails unless this plexus instance still holds it by the server's clock.
                if leased, !events.isEmpty { statements.append(store.fence(instance.id)) }
                for (offset, event) in events.enumerated() {
                    statements.append(store.insertEntry(instance.id, instance.history.count + offset, event))
                }
                if let terminal = events.first(where: \.isTerminal) {
                    statements.append(store.updateStatus(instance.id, terminal.kind.rawValue, now: now))
                } else if events.contains(where: { $0.kind == .cancelRequested || $0.kind == .compensationScheduled }) {
                    statements.append(store.updateStatus(instance.id, "compensating", now: now))
                }
                written.append((instance, events, release, waiters))
            }
            if !statements.isEmpty {
                do {
                    try await store.transaction(statements)
                } catch {
                    for (instance, _, _, _) in written { instance.writing = [] }
                    lastCommitError = "\(error)"
                    // On PostgreSQL: the instances whose lease is gone stop here (their entries are
                    // refused for good); the others are written again at once.
                    if leased, let held = try? await store.held(written.map(\.0.id)) {
                        let lost = written.filter { !held.contains($0.0.id) }
                        if !lost.isEmpty {
                            for (instance, events, _, waiters) in lost {
                                if live[instance.id] === instance {
                                    instance.durableWaiters = waiters + instance.durableWaiters
                                    relinquish(instance, reason: "its history write was refused: another plexus instance holds its lease, or it expired",
                                               unwritten: events)
                                } else {
                                    refuse(events, waiters: waiters, of: instance)
                                }
                            }
                            for (instance, events, _, waiters) in written where held.contains(instance.id) && live[instance.id] !== instance {
                                refuse(events, waiters: waiters, of: instance)
                            }
                            for (instance, events, release, waiters) in written where held.contains(instance.id) && live[instance.id] === instance {
                                instance.queued = events + instance.queued
                                instance.releaseOnCommit = release + instance.releaseOnCommit
                                instance.durableWaiters = waiters + instance.durableWaiters
                                instance.queuedKeys.formUnion(events.map { Action.record($0).key })
                                if !dirty.contains(instance.id) { dirty.insert(instance.id, at: 0) }
                            }
                            continue
                        }
                    }
                    // Nothing was acknowledged and nothing acted on: the entries go back in front of their queues
                    // and the commit is tried again after a pause (up to 5 s apart while storage keeps failing).
                    commitFailures += 1
                    let pause = min(5_000, 100 << min(commitFailures, 6))
                    context.logger.error("history commit failed; retrying", metadata: ["error": "\(error)", "instances": "\(written.count)", "retry_ms": "\(pause)"])
                    var again: [String] = []
                    for (instance, events, release, waiters) in written {
                        if stopped {
                            // Stopped while the batch was in flight: `stop()` has answered the
                            // waiters it found; these were in the batch.
                            for waiter in waiters { waiter.resume(throwing: HTTPError.unavailable("workflows stopped before the entry was stored")) }
                            continue
                        }
                        guard live[instance.id] === instance else {
                            // Stopped here meanwhile (its lease lost): nothing of it is written again,
                            // and whoever waits for its entries is answered.
                            refuse(events, waiters: waiters, of: instance)
                            continue
                        }
                        instance.queued = events + instance.queued
                        instance.releaseOnCommit = release + instance.releaseOnCommit
                        instance.durableWaiters = waiters + instance.durableWaiters
                        instance.queuedKeys.formUnion(events.map { Action.record($0).key })
                        again.append(instance.id)
                    }
                    dirty = again + dirty.filter { !again.contains($0) }
                    context.timers.schedule(after: .milliseconds(pause)) { [weak self] in Task { await self?.commit() } }
                    return
                }
                commitFailures = 0
                lastCommitError = nil
            }
            for (instance, events, release, waiters) in written {
                instance.writing = []
                instance.history += events
                for key in release { inFlight.remove("\(instance.id)|\(key)") }
                eventsCommitted(events)
                for waiter in waiters { waiter.resume() }
                // Callers that came while this commit was in flight (a repeat finding its entry
                // being written) waited only for entries now stored, unless more are queued.
                if instance.queued.isEmpty {
                    let late = instance.durableWaiters
                    instance.durableWaiters = []
                    for waiter in late { waiter.resume() }
                }
            }
            let announced = written.map { ($0.0, $0.1) }
            Task { for (instance, events) in announced { await self.announce(instance, events) } }
            for (instance, _, _, _) in written { advance(instance) }
        }
    }
}
