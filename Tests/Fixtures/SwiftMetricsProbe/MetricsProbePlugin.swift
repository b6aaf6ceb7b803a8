import CoreMetrics
import PlexusSDK

/// A fixture for the SDK's metrics (ABI 1.3): its own families through `context.metrics`, a
/// swift-metrics counter, recordings from the thread pool, the refusals the runtime answers,
/// and a declared config key list (`unit` only).
@PluginActor
final class MetricsProbePlugin: Plugin {
    static let manifest = PluginManifest(name: "metrics-probe", version: "0.1.0", description: "fixture: plugin metrics",
                                         configKeys: ["unit"])

    init(context: PluginContext) throws {
        let hits = try context.metrics.counter("hits_total", help: "Hits, by where they were counted", labels: ["where"])
        let level = try context.metrics.gauge("level", help: "The last level asked for")
        let sizes = try context.metrics.histogram("size_bytes", help: "Sizes asked for", buckets: [10, 100])
        // Registering again with the same shape is the same family.
        _ = try context.metrics.counter("hits_total", help: "Hits, by where they were counted", labels: ["where"])
        let swiftMetrics = CoreMetrics.Counter(label: "swift.hits", dimensions: [("path", "probe")])
        var refusals: [String] = []
        for attempt in [{ _ = try context.metrics.counter("Bad-Name_total", help: "x") },
                        { _ = try context.metrics.gauge("looks_like_a_counter_total", help: "x") },
                        { _ = try context.metrics.counter("no_help_total", help: "") },
                        { _ = try context.metrics.counter("hits_total", help: "Hits", labels: ["other"]) }] as [() throws -> Void] {
            do { try attempt() } catch { refusals.append("\(error)") }
        }
        let unit = context.config.string("unit", default: "bytes")
        try context.routes.get("/api/v1/metrics-probe/hit", options: RouteOptions(access: .public)) { request in
            let size = Double(request.query["size"] ?? "") ?? 1
            hits.increment(labels: ["loop"])
            hits.increment(by: -1, labels: ["loop"])  // refused: a counter only grows
            hits.increment(labels: [])  // refused: one label value is needed
            level.set(size)
            sizes.observe(size)
            swiftMetrics.increment()
            try await context.offLoop { hits.increment(by: 2, labels: ["pool"]) }
            return try .json(["refusals": refusals, "unit": [unit]])
        }
        // ABI 1.8: an audit record with the action, target and outcome the query names; the
        // runtime's refusal comes back as a 400 with its message.
        try context.routes.get("/api/v1/metrics-probe/audit", options: RouteOptions(access: .public)) { request in
            let outcome: AuditOutcome = request.query["outcome"] == "denied" ? .denied : .success
            do {
                try context.audit.record(AuditEntry(action: request.query["action"] ?? "", actor: request.query["actor"], tenant: request.query["tenant"],
                                                    target: request.query["target"], requestID: request.requestID, outcome: outcome, detail: "probe"))
            } catch {
                throw HTTPError.badRequest("\(error)")
            }
            return .empty()
        }
    }
}

@_cdecl("plexus_plugin_entry_v1")
public func plexusPluginEntry(_ host: UnsafeRawPointer?) -> UnsafeRawPointer? {
    PluginExport.descriptor(for: MetricsProbePlugin.self, host: host)
}
