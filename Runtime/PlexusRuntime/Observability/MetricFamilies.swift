/// Every metric family the runtime exposes at `/metrics`: the catalogue the README documents,
/// the single source of each family's type and help text.
///
/// Families whose labels are all known in advance have their series at zero from the start;
/// families labelled by something that appears later (a route's status, a subscriber, a consumer
/// group, a circuit) show their `# HELP` and `# TYPE` lines from the start and a series from
/// its first count.
struct MetricFamily: Sendable {
    enum Kind: String, Sendable { case counter, gauge, histogram }
    let name: String
    let kind: Kind
    let help: String

    static let all: [MetricFamily] = [
        .init(name: "plexus_http_requests_total", kind: .counter, help: "HTTP requests answered, by plugin, route, method and status"),
        .init(name: "plexus_http_request_duration_seconds", kind: .histogram, help: "Time from request start to response, by plugin and route"),
        .init(name: "plexus_gateway_refusals_total", kind: .counter, help: "Requests the gateway answered itself: 401, 403, 429, 503, 504"),
        .init(name: "plexus_access_log_dropped_total", kind: .counter, help: "Access log records dropped because the sink did not keep up (or failed)"),
        .init(name: "plexus_circuit_state", kind: .gauge, help: "1 for the current state of a route's circuit breaker"),
        .init(name: "plexus_circuit_transitions_total", kind: .counter, help: "Circuit breaker state changes"),
        .init(name: "plexus_bus_published_total", kind: .counter, help: "Events published"),
        .init(name: "plexus_bus_dropped_total", kind: .counter, help: "Events dropped by full subscriber queues"),
        .init(name: "plexus_bus_delivered_total", kind: .counter, help: "Events delivered to live subscriptions, counted from the live subscriptions at each scrape"),
        .init(name: "plexus_bus_queue_depth", kind: .gauge, help: "Events waiting in subscriber queues"),
        .init(name: "plexus_bus_acked_total", kind: .counter, help: "Durable deliveries acknowledged"),
        .init(name: "plexus_bus_retried_total", kind: .counter, help: "Durable deliveries failed and scheduled for retry or dead letter"),
        .init(name: "plexus_bus_undeclared_publishes_total", kind: .counter, help: "Publishes by a plugin on topics its manifest does not declare (refused in debug builds)"),
        .init(name: "plexus_eventlog_appended_events_total", kind: .counter, help: "Durable events appended"),
        .init(name: "plexus_eventlog_transactions_total", kind: .counter, help: "Group-commit transactions of the durable event log"),
        .init(name: "plexus_storage_operation_seconds", kind: .histogram, help: "Plugin storage operation latency"),
        .init(name: "plexus_plugin_state", kind: .gauge, help: "1 for the plugin's current lifecycle state"),
        .init(name: "plexus_plugin_health", kind: .gauge, help: "1 for the plugin's latest health status"),
        .init(name: "plexus_loop_lag_seconds", kind: .histogram, help: "How late the loop's 100 ms tick fired"),
        .init(name: "plexus_loop_lag_max_seconds", kind: .gauge, help: "Largest loop lag seen since the worker started"),
        .init(name: "plexus_worker_recycles_total", kind: .counter,
              help: "Memory recycles since the supervisor started: generations recycled gracefully (memory_ceiling), workers killed past twice max_rss_mb (memory_hard_limit)"),
        .init(name: "plexus_build_info", kind: .gauge, help: "1, labelled with the runtime's version and the plugin ABI it speaks"),
        .init(name: "process_cpu_seconds_total", kind: .counter, help: "User and system CPU time of the serving process, in seconds"),
        .init(name: "process_resident_memory_bytes", kind: .gauge, help: "Resident set size of the serving process"),
        .init(name: "process_virtual_memory_bytes", kind: .gauge, help: "Virtual memory size of the serving process"),
        .init(name: "process_open_fds", kind: .gauge, help: "Open file descriptors of the serving process"),
        .init(name: "process_max_fds", kind: .gauge, help: "The serving process's open file descriptor limit"),
        .init(name: "process_start_time_seconds", kind: .gauge, help: "Start time of the serving process, in seconds since the Unix epoch"),
    ]

    private static let byName = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

    /// The catalogued help text of `name`, else `fallback`.
    static func help(_ name: String, fallback: String) -> String { byName[name]?.help ?? fallback }
}
