import Foundation
import Prometheus

/// The runtime's metrics, exposed at `/metrics` in the Prometheus text format.
///
/// Metric objects are created once per label set and cached, so recording on the request path
/// is an atomic add and a histogram bucket update.
final class RuntimeMetrics {
    let registry = PrometheusCollectorRegistry()
    private struct RequestKey: Hashable {
        let route: String
        let plugin: String
        let method: String
        let status: Int
    }
    private var requestCounters: [RequestKey: Counter] = [:]
    private var durationHistograms: [String: ValueHistogram] = [:]
    private var stateGauges: [String: Gauge] = [:]
    private var healthGauges: [String: Gauge] = [:]
    private let loopLag: ValueHistogram
    private let loopLagMax: Gauge
    private let residentMemory: Gauge
    private let openFileDescriptors: Gauge
    private var counters: [String: Counter] = [:]
    private var gauges: [String: Gauge] = [:]

    static let latencyBuckets: [Double] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    init() {
        loopLag = registry.makeValueHistogram(name: "plexus_loop_lag_seconds", buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
                                              help: "How late the loop's 100 ms tick fired")
        loopLagMax = registry.makeGauge(name: "plexus_loop_lag_max_seconds", help: "Largest loop lag seen since start")
        residentMemory = registry.makeGauge(name: "process_resident_memory_bytes", help: "Resident set size")
        openFileDescriptors = registry.makeGauge(name: "process_open_fds", help: "Open file descriptors")
    }

    /// Records one request answered by a plugin route, through the route's cached metric objects.
    func recordRequest(on route: RegisteredRoute, status: Int, seconds: Double) {
        if let counter = route.requestCounters[status] as? Counter {
            counter.increment()
        } else {
            recordRequest(plugin: route.plugin.name, route: route.pattern.text, method: route.method, status: status, seconds: seconds)
            route.requestCounters[status] = requestCounters[RequestKey(route: route.pattern.text, plugin: route.plugin.name, method: route.method, status: status)]
            route.durationHistogram = durationHistograms[route.plugin.name + " " + route.pattern.text]
            return
        }
        (route.durationHistogram as? ValueHistogram)?.record(seconds)
    }

    /// Records one answered request.
    func recordRequest(plugin: String, route: String, method: String, status: Int, seconds: Double) {
        let key = RequestKey(route: route, plugin: plugin, method: method, status: status)
        let counter: Counter
        if let existing = requestCounters[key] {
            counter = existing
        } else {
            counter = registry.makeCounter(name: "plexus_http_requests_total",
                                           labels: [("plugin", plugin), ("route", route), ("method", method), ("status", String(status))],
                                           help: "HTTP requests answered, by plugin, route, method and status")
            requestCounters[key] = counter
        }
        counter.increment()
        let histogramKey = plugin + " " + route
        let histogram: ValueHistogram
        if let existing = durationHistograms[histogramKey] {
            histogram = existing
        } else {
            histogram = registry.makeValueHistogram(name: "plexus_http_request_duration_seconds", labels: [("plugin", plugin), ("route", route)],
                                                    buckets: Self.latencyBuckets, help: "Time from request start to response, by plugin and route")
            durationHistograms[histogramKey] = histogram
        }
        histogram.record(seconds)
    }

    /// Records a loop-lag sample.
    func recordLoopLag(milliseconds: UInt64, max: UInt64) {
        loopLag.record(Double(milliseconds) / 1000)
        loopLagMax.set(Double(max) / 1000)
    }

    /// Sets `plexus_plugin_state{plugin,state}` to 1 for the current state and 0 for the others.
    func setPluginState(_ plugin: String, _ state: PluginState) {
        for candidate in [PluginState.discovered, .loaded, .initialized, .starting, .running, .stopping, .stopped, .failed] {
            let key = plugin + "\u{0}" + candidate.rawValue
            let gauge = stateGauges[key] ?? registry.makeGauge(name: "plexus_plugin_state", labels: [("plugin", plugin), ("state", candidate.rawValue)],
                                                               help: "1 for the plugin's current lifecycle state")
            stateGauges[key] = gauge
            gauge.set(to: candidate == state ? 1.0 : 0.0)
        }
    }

    /// Sets `plexus_plugin_health{plugin,status}` like the state gauge.
    func setPluginHealth(_ plugin: String, _ status: String) {
        for candidate in ["ok", "degraded", "failing"] {
            let key = plugin + "\u{0}" + candidate
            let gauge = healthGauges[key] ?? registry.makeGauge(name: "plexus_plugin_health", labels: [("plugin", plugin), ("status", candidate)],
                                                                help: "1 for the plugin's latest health status")
            healthGauges[key] = gauge
            gauge.set(to: candidate == status ? 1.0 : 0.0)
        }
    }

    private var storageHistograms: [String: ValueHistogram] = [:]

    /// The latency histogram of one storage operation.
    func storageLatency(operation: String) -> ValueHistogram {
        if let existing = storageHistograms[operation] { return existing }
        let histogram = registry.makeValueHistogram(name: "plexus_storage_operation_seconds", labels: [("operation", operation)],
                                                    buckets: Self.latencyBuckets, help: "Plugin storage operation latency")
        storageHistograms[operation] = histogram
        return histogram
    }

    /// Refreshes the bus gauges: per-subscriber queue depth and deliveries, and the durable log's
    /// appends and commits.
    func recordBus(_ events: EventRouter) {
        var depth: [String: Int] = [:], delivered: [String: UInt64] = [:]
        for stat in events.bus.stats {
            depth[stat.owner, default: 0] += stat.depth
            delivered[stat.owner, default: 0] += stat.delivered
        }
        for (owner, value) in depth {
            gauge("plexus_bus_queue_depth", [("subscriber", owner)], help: "Events waiting in subscriber queues").set(to: Double(value))
        }
        for (owner, value) in delivered {
            gauge("plexus_bus_delivered", [("subscriber", owner)], help: "Events delivered to live subscriptions (cumulative, current subscriptions)")
                .set(to: Double(value))
        }
        if let statistics = events.log?.statistics {
            gauge("plexus_eventlog_appended", [], help: "Durable events appended since start").set(to: Double(statistics.appendedEvents))
            gauge("plexus_eventlog_transactions", [], help: "Group-commit transactions since start").set(to: Double(statistics.transactions))
        }
    }

    /// A counter by name and labels (created on first use).
    func counter(_ name: String, _ labels: [(String, String)], help: String) -> Counter {
        let key = name + labels.map { "\u{0}\($0.0)=\($0.1)" }.joined()
        if let existing = counters[key] { return existing }
        let counter = registry.makeCounter(name: name, labels: labels, help: help)
        counters[key] = counter
        return counter
    }

    /// A gauge by name and labels (created on first use).
    func gauge(_ name: String, _ labels: [(String, String)], help: String) -> Gauge {
        let key = name + labels.map { "\u{0}\($0.0)=\($0.1)" }.joined()
        if let existing = gauges[key] { return existing }
        let gauge = registry.makeGauge(name: name, labels: labels, help: help)
        gauges[key] = gauge
        return gauge
    }

    /// The exposition text, with process gauges refreshed.
    func render() -> [UInt8] {
        residentMemory.set(Double(Self.residentBytes()))
        openFileDescriptors.set(Double((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0))
        return registry.emitToBuffer()
    }

    static func residentBytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return 0 }
        return kilobytes * 1024
    }
}
