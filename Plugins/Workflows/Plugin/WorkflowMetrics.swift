import PlexusSDK

/// The plugin's metrics at `/metrics` (as `workflows_<name>`).
@PluginActor
struct WorkflowMetrics {
    let running: MetricGauge
    let completed: MetricCounter
    let failed: MetricCounter
    let cancelled: MetricCounter
    let steps: MetricCounter
    let stepSeconds: MetricHistogram
    let ruleMatched: MetricCounter
    let ruleForwarded: MetricCounter
    let ruleDropped: MetricCounter
    let ruleBatched: MetricCounter

    init(_ metrics: Metrics) throws {
        running = try metrics.gauge("instances_running", help: "Workflow instances not finished yet")
        completed = try metrics.counter("instances_completed_total", help: "Workflow instances completed, by workflow", labels: ["workflow"])
        failed = try metrics.counter("instances_failed_total", help: "Workflow instances failed (after compensation), by workflow", labels: ["workflow"])
        cancelled = try metrics.counter("instances_cancelled_total", help: "Workflow instances cancelled (after compensation), by workflow", labels: ["workflow"])
        steps = try metrics.counter("step_attempts_total", help: "Service calls of steps and compensations, by workflow, kind and outcome",
                                    labels: ["workflow", "kind", "outcome"])
        stepSeconds = try metrics.histogram("step_seconds", help: "Latency of a step's service call, by workflow", labels: ["workflow"])
        ruleMatched = try metrics.counter("rule_matched_total", help: "Events a routing rule matched (topic and condition)", labels: ["rule"])
        ruleForwarded = try metrics.counter("rule_forwarded_total", help: "Events a routing rule published (a batch counts once)", labels: ["rule"])
        ruleDropped = try metrics.counter("rule_dropped_total", help: "Events a routing rule dropped (duplicate or over its rate limit)", labels: ["rule"])
        ruleBatched = try metrics.counter("rule_batched_total", help: "Events a routing rule added to a batch", labels: ["rule"])
    }
}
