import Foundation
import PlexusSDK
import WorkflowEngine

/// Routing rules on the bus: from `rules` in `plugins.d/workflows.toml` (a JSON array) and from
/// the admin route; each rule's subscription feeds the ``Router``, whose outputs are published.
@PluginActor
final class RuleRouting {
    let context: PluginContext
    let store: WorkflowStore
    let metrics: WorkflowMetrics
    let publishable: [String]
    let state: RuleStateStore
    private(set) var router = Router(rules: [])
    /// Names of rules from the config file (not changeable through the API).
    private(set) var configured: Set<String> = []
    private var configRules: [RoutingRule] = []
    private var storedRules: [RoutingRule] = []
    private var subscriptions: [Subscription] = []
    private var reported: [String: Router.Counts] = [:]
    private var flushTimer: TimerHandle?
    private var flushAt: Int64 = .max

    init(context: PluginContext, store: WorkflowStore, metrics: WorkflowMetrics, publishable: [String]) {
        self.context = context
        self.store = store
        self.metrics = metrics
        self.publishable = publishable
        state = RuleStateStore(store: store, context: context)
    }

    /// Parses the config's `rules` text (a JSON array of rules); a bad rule fails the plugin, naming it.
    func configure(_ text: String?) throws {
        guard let text, !text.isEmpty else { return }
        guard let list = JSON.parse(text)?.array else { throw DefinitionError("$", "config key 'rules' is a JSON array of rule objects") }
        configRules = try list.enumerated().map { try RoutingRule.parse($0.element, at: "rules[\($0.offset)]", publishable: publishable) }
        configured = Set(configRules.map(\.name))
    }

    /// Loads the stored rules and the rules' stored state (keys, buckets, open batches: see
    /// ``RuleStateStore``), publishes batches whose window passed while down, and starts routing.
    func start() async throws {
        storedRules = try await store.rules().compactMap { entry in
            do { return try RoutingRule.parse(JSON.parse(entry.body) ?? .null, publishable: publishable) } catch {
                context.logger.error("stored rule skipped", metadata: ["rule": "\(entry.name)", "error": "\(error)"])
                return nil
            }
        }
        let saved = try await state.load()
        try install(restoring: saved)
        let now = epochMilliseconds()
        state.prune(keeping: router.rules.map { ($0.name, $0.dedupe.map { now - Int64($0.windowMilliseconds) }) })
        publish(router.flush(now: now), tenant: "", cause: nil)
        persist()
        scheduleFlush(now: now)
    }

    /// Adds or replaces a rule through the API.
    func put(_ rule: RoutingRule, body: String) async throws {
        try await store.putRule(rule.name, body, now: epochMilliseconds())
        storedRules.removeAll { $0.name == rule.name }
        storedRules.append(rule)
        try install()
    }

    func delete(_ name: String) async throws -> Bool {
        guard try await store.deleteRule(name) else { return false }
        storedRules.removeAll { $0.name == name }
        try install()
        return true
    }

    /// Rebuilds the router and its subscriptions: at start from the stored state; after a change of
    /// the rule set, open batches of the old router are published first and keys and buckets start afresh.
    private func install(restoring saved: [RouterStateChange]? = nil) throws {
        publish(router.flush(now: .max), tenant: "", cause: nil)
        if saved == nil { state.forgetKeys() }
        for subscription in subscriptions { subscription.cancel() }
        subscriptions = []
        let rules = configRules + storedRules.filter { !configured.contains($0.name) }
        router = Router(rules: rules)
        if let saved {
            for stale in router.restore(saved, now: epochMilliseconds()) { state.published(rule: stale.rule, batch: stale.batch) }
        }
        router.journaling = true
        reported = [:]
        for pattern in Set(rules.map(\.match)).sorted() {
            subscriptions.append(try context.bus.subscribe(pattern, queueLimit: 65_536) { [weak self] event in self?.route(event) })
        }
    }

    func route(_ event: Event) {
        // Events this plugin published are not routed again: rules cannot feed each other in a loop.
        guard event.source != "workflows", let payload = JSON.parse(event.payload) else { return }
        let now = epochMilliseconds()
        let outputs = router.route(topic: event.topic, payload: payload, now: now)
        persist()
        publish(outputs, tenant: event.tenant, cause: event.id)
        report()
        scheduleFlush(now: now)
    }

    private func scheduleFlush(now: Int64) {
        guard let deadline = router.nextDeadline, deadline < flushAt else { return }
        flushTimer?.cancel()
        flushAt = deadline
        flushTimer = context.timers.schedule(after: .milliseconds(max(0, deadline - now))) { [weak self] in
            guard let self else { return }
            self.flushAt = .max
            let now = epochMilliseconds()
            self.publish(self.router.flush(now: now), tenant: "", cause: nil)
            self.persist()
            self.report()
            self.scheduleFlush(now: now)
        }
    }

    /// Queues the router's state changes for storage.
    private func persist() {
        let changes = router.takeJournal()
        if !changes.isEmpty { state.record(changes) }
    }

    private func publish(_ outputs: [Router.Output], tenant: String, cause: String?) {
        guard !outputs.isEmpty else { return }
        let bus = context.bus
        let logger = context.logger
        let state = state
        Task {
            for output in outputs {
                do {
                    try await bus.publish(output.topic, payload: output.payload.bytes, contentType: "application/json", tenant: tenant,
                                          causationID: cause, durable: output.durable)
                } catch {
                    logger.warning("routed event not published", metadata: ["rule": "\(output.rule)", "topic": "\(output.topic)", "error": "\(error)"])
                }
                if let batch = output.batch { state.published(rule: output.rule, batch: batch) }
            }
        }
    }

    /// Adds the router's counts since the last report to the metrics.
    private func report() {
        for rule in router.rules {
            guard let counts = router.counts(rule.name) else { continue }
            let last = reported[rule.name] ?? Router.Counts()
            if counts == last { continue }
            if counts.matched > last.matched { metrics.ruleMatched.increment(by: Double(counts.matched - last.matched), labels: [rule.name]) }
            if counts.forwarded > last.forwarded { metrics.ruleForwarded.increment(by: Double(counts.forwarded - last.forwarded), labels: [rule.name]) }
            if counts.dropped > last.dropped { metrics.ruleDropped.increment(by: Double(counts.dropped - last.dropped), labels: [rule.name]) }
            if counts.batched > last.batched { metrics.ruleBatched.increment(by: Double(counts.batched - last.batched), labels: [rule.name]) }
            reported[rule.name] = counts
        }
    }

    /// The rules with their counts, for the API.
    var summary: JSON {
        .array(router.rules.map { rule in
            let counts = router.counts(rule.name) ?? Router.Counts()
            return .object(["name": .string(rule.name), "match": .string(rule.match), "topic": .string(rule.topic),
                            "source": .string(configured.contains(rule.name) ? "config" : "api"),
                            "matched": .number(Double(counts.matched)), "forwarded": .number(Double(counts.forwarded)),
                            "dropped": .number(Double(counts.dropped)), "batched": .number(Double(counts.batched))])
        })
    }
}

extension WorkflowsPlugin {
    func registerRuleRoutes() throws {
        try context.routes.get("\(Self.prefix)/rules", options: RouteOptions(summary: "Routing rules with their counts")) { [unowned self] _ in
            Self.json(rules.summary)
        }
        try context.routes.put("\(Self.prefix)/rules/:rule", options: RouteOptions(roles: ["admin"], summary: "Adds or replaces a routing rule"),
                               maxBodyBytes: 64 * 1024) { [unowned self] request async throws in
            let name = request.parameters["rule"] ?? ""
            guard var json = JSON.parse(request.body), json.object != nil else { throw HTTPError.badRequest("the body is a JSON rule object") }
            if json["name"] == nil, case var .object(fields) = json { fields["name"] = .string(name); json = .object(fields) }
            guard json["name"]?.string == name else { throw HTTPError.unprocessable("$.name: '\(json["name"]?.text ?? "")' differs from the path's rule name '\(name)'") }
            guard !rules.configured.contains(name) else { throw HTTPError.conflict("rule '\(name)' comes from plugins.d/workflows.toml; change it there") }
            let rule: RoutingRule
            do { rule = try RoutingRule.parse(json, publishable: rules.publishable) } catch let error as DefinitionError {
                throw HTTPError.unprocessable(error.description)
            }
            try await rules.put(rule, body: json.text)
            return Self.json(.object(["name": .string(name), "match": .string(rule.match), "topic": .string(rule.topic)]), status: 200)
        }
        try context.routes.delete("\(Self.prefix)/rules/:rule", options: RouteOptions(roles: ["admin"], summary: "Removes a routing rule")) { [unowned self] request async throws in
            let name = request.parameters["rule"] ?? ""
            guard try await rules.delete(name) else { throw HTTPError.notFound("no API rule '\(name.prefix(64))'") }
            return .empty()
        }
    }
}
