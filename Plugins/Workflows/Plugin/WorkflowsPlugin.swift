import Foundation
import PlexusSDK
import WorkflowEngine

/// The workflows plugin: durable sagas across plugins (steps that call bus services, with
/// compensations, retries, timeouts, parallel branches, conditions, waits, timers and children;
/// every transition appended to the instance's history in this plugin's SQLite storage before
/// its effect is acknowledged; unfinished instances resume from their history at start), and
/// declarative routing rules on the bus.
///
/// Configuration (`plugins.d/workflows.toml`): `definitions_dir` (default `plugins.d/workflows`:
/// the shipped definitions, `*.json` or `*.toml`, stored as tenant-less versions at start), `rules` (a JSON
/// array of routing rules).
@PluginActor
public final class WorkflowsPlugin: Plugin {
    /// Topics a `publish` step or a routing rule may use, besides the workflow events.
    static let publishable = ["document.analyzed", "routed.#", "workflow.custom.#"]

    public static let manifest = PluginManifest(
        name: "workflows",
        version: "1.0.0",
        description: "Durable sagas across plugins and declarative routing rules on the bus",
        publishes: [
            TopicDeclaration("workflow.started", description: "An instance started: {instance, workflow, version, input}"),
            TopicDeclaration("workflow.step.completed", description: "A step completed: {instance, workflow, step, attempt}"),
            TopicDeclaration("workflow.step.failed", description: "A step's attempt failed: {instance, workflow, step, attempt, error, kind}"),
            TopicDeclaration("workflow.compensated", description: "A completed step was undone: {instance, workflow, step}"),
            TopicDeclaration("workflow.completed", description: "An instance completed: {instance, workflow, output}"),
            TopicDeclaration("workflow.failed", description: "An instance failed after its compensations: {instance, workflow, error}"),
            TopicDeclaration("workflow.cancelled", description: "An instance was cancelled after its compensations: {instance, workflow, error}"),
            TopicDeclaration("workflow.custom.#", description: "Published by definitions' publish steps"),
            TopicDeclaration("document.analyzed", description: "The document-analysis workflow's report"),
            TopicDeclaration("routed.#", description: "Published by routing rules"),
        ],
        configKeys: ["definitions_dir", "rules"]
    )

    let context: PluginContext
    let store: WorkflowStore
    let metrics: WorkflowMetrics
    let parser: DefinitionParser
    let runner: WorkflowRunner
    let rules: RuleRouting
    let definitionsDirectory: String
    /// On PostgreSQL: marks this instance's running workflow instances alive (``WorkflowStore/heartbeat(now:)``).
    var heartbeat: TimerHandle?

    public init(context: PluginContext) throws {
        self.context = context
        store = WorkflowStore(storage: context.storage)
        metrics = try WorkflowMetrics(context.metrics)
        parser = DefinitionParser(publishable: Self.publishable)
        runner = WorkflowRunner(context: context, store: store, metrics: metrics, parser: parser)
        rules = RuleRouting(context: context, store: store, metrics: metrics, publishable: Self.publishable)
        definitionsDirectory = context.config.string("definitions_dir", default: "plugins.d/workflows")
        try rules.configure(context.config["rules"])
        try registerWorkflowRoutes()
        try registerRuleRoutes()
    }

    /// Creates the tables, stores the shipped definitions, starts the rules, resumes unfinished instances.
    public func start() async throws {
        try await store.migrate()
        let shipped = try await loadShippedDefinitions()
        try subscribeTriggers(shipped)
        try await rules.start()
        let resumed = try await runner.resumeAll()
        if context.storage.dialect == .postgresql {
            // Renews the leases of this instance's workflow instances (those it lost stop here at
            // once), then takes over those of a plexus instance that stopped (crashed, cut off
            // from the database, or this one before a restart).
            let store = self.store, runner = self.runner, logger = context.logger
            heartbeat = context.timers.schedule(after: WorkflowStore.heartbeatInterval, repeating: WorkflowStore.heartbeatInterval) {
                Task { @PluginActor in
                    do {
                        let sent = monotonicSeconds()
                        let judged = runner.live
                        let renewed = try await store.heartbeat(now: epochMilliseconds())
                        runner.leasesRenewed(renewed, sentAt: sent, judged: judged)
                        _ = try await runner.adoptOrphans()
                    } catch {
                        logger.warning("workflows heartbeat failed", metadata: ["error": "\(error)"])
                    }
                }
            }
        }
        context.logger.info("workflows ready", metadata: ["resumed": "\(resumed)", "rules": "\(rules.router.rules.count)"])
    }

    public func stop() async {
        heartbeat?.cancel()
        heartbeat = nil
        runner.stop()
    }

    public func health() -> HealthReport { HealthReport(status: .ok, detail: "\(runner.live.count) running") }

    /// Reads `definitions_dir/*.json`; a file that does not parse fails the plugin, naming the file and the path inside it.
    @discardableResult
    func loadShippedDefinitions() async throws -> [Definition] {
        let directory = definitionsDirectory
        var loaded: [Definition] = []
        let files = try await context.offLoop { () -> [(String, [UInt8])] in
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            return try names.filter { $0.hasSuffix(".json") || $0.hasSuffix(".toml") }.sorted().map { name in
                (name, Array(try Data(contentsOf: URL(fileURLWithPath: directory).appendingPathComponent(name))))
            }
        }
        for (name, bytes) in files {
            let definition: Definition
            let json: JSON
            do {
                json = name.hasSuffix(".toml") ? try DefinitionParser.json(toml: String(decoding: bytes, as: UTF8.self))
                    : try JSON.parse(bytes) ?? { throw DefinitionError("$", "not valid JSON") }()
                definition = try parser.parse(json)
            } catch {
                throw DefinitionError("$", "\(directory)/\(name): \(error)")
            }
            _ = try await store.putDefinition(tenant: "", name: definition.name, body: json.text, now: epochMilliseconds())
            loaded.append(definition)
        }
        return loaded
    }

    /// A durable consumer group per shipped definition with a `trigger`: every event on its topic starts
    /// one instance (the event id is the idempotency key, so a redelivered event starts none), in the
    /// event's tenant. An event whose mapped input the definition refuses is logged and acknowledged.
    func subscribeTriggers(_ definitions: [Definition]) throws {
        for definition in definitions {
            guard let trigger = definition.trigger else { continue }
            let name = definition.name
            try context.bus.subscribe(trigger.topic, group: "workflows-\(name)") { [unowned self] event in
                guard let payload = JSON.parse(event.payload) else {
                    context.logger.warning("trigger event is not JSON", metadata: ["workflow": "\(name)", "event": "\(event.id)"])
                    return
                }
                do {
                    _ = try await runner.start(tenant: event.tenant, name: name, input: trigger.input.resolve(payload), idempotencyKey: "event:\(event.id)")
                } catch let error as HTTPError where error.status < 500 {
                    context.logger.warning("trigger did not start an instance", metadata: ["workflow": "\(name)", "event": "\(event.id)", "error": "\(error.detail)"])
                }
            }
        }
    }
}
