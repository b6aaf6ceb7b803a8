import CPlexusABI
import Foundation
import Prometheus

/// The runtime's metrics, exposed at `/metrics` in the Prometheus text format.
///
/// Metric objects are created once per label set and cached, so recording on the request path
/// is an atomic add and a histogram bucket update. Counters end in `_total`; the families are
/// catalogued in ``MetricFamily/all``. In a supervised worker the counters also land in the
/// generation's shared ``CounterRegion`` and the counts of earlier generations (the master's
/// ``CounterCarry``) are added in, so counters survive reloads, recycles and crashes.
final class RuntimeMetrics {
    let registry = PrometheusCollectorRegistry()
    private struct RequestKey: Hashable {
        let route: String
        let plugin: String
        let method: String
        let status: Int
    }
    private var requestCounters: [RequestKey: RuntimeCounter] = [:]
    /// `plexus_http_request_duration_seconds`, counted on the loop with no lock, rendered with the rest.
    let requestDurations = RequestDurations(bounds: RuntimeMetrics.latencyBuckets,
                                            help: MetricFamily.help(RequestDurations.name, fallback: ""))
    private var stateGauges: [String: Gauge] = [:]
    private var healthGauges: [String: Gauge] = [:]
    private let loopLag: ValueHistogram
    private let loopLagMax: Gauge
    private var counters: [String: RuntimeCounter] = [:]
    private var gauges: [String: Gauge] = [:]
    /// This generation's shared counter region and the file of earlier generations' totals (supervised workers).
    private var region: CounterRegion?
    private var carriedFile: URL?
    /// Earlier generations' totals already added, by series.
    private var carriedApplied: [String: Double] = [:]
    /// Cumulative statistics mirrored into counters: the value last counted, by series.
    private var mirrored: [String: UInt64] = [:]
    /// The families plugins register through the ABI.
    private(set) lazy var plugins = PluginMetrics(metrics: self)

    static let latencyBuckets: [Double] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    /// The runtime's version and the plugin ABI (`major.minor`) it speaks, for `plexus_build_info`.
    init(version: String = "unknown") {
        loopLag = registry.makeValueHistogram(name: "plexus_loop_lag_seconds", buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
                                              help: MetricFamily.help("plexus_loop_lag_seconds", fallback: ""))
        loopLagMax = registry.makeGauge(name: "plexus_loop_lag_max_seconds", help: MetricFamily.help("plexus_loop_lag_max_seconds", fallback: ""))
        gauge("plexus_build_info", [("version", version), ("abi", "\(PLEXUS_ABI_MAJOR).\(PLEXUS_ABI_MINOR)")], help: "").set(to: 1)
        refreshProcessMetrics()
    }

    /// Creates the series whose labels are known in advance, at zero (after ``attach(region:carriedFile:)``
    /// in a worker, so they claim their shared slots).
    func registerKnownSeries(supervised: Bool) {
        for durable in ["false", "true"] { counter("plexus_bus_published_total", [("durable", durable)], help: "") }
        for status in [401, 403, 429, 503, 504] { counter("plexus_gateway_refusals_total", [("status", "\(status)")], help: "") }
        counter("plexus_eventlog_appended_events_total", [], help: "")
        counter("plexus_eventlog_transactions_total", [], help: "")
        if supervised {
            for reason in WorkerRecycle.Reason.allCases { counter("plexus_worker_recycles_total", [("reason", reason.rawValue)], help: "", carried: false) }
        }
    }

    /// A supervised worker: count into `region` as well, and add the totals of `carriedFile`.
    func attach(region: CounterRegion, carriedFile: URL) {
        self.region = region
        self.carriedFile = carriedFile
        applyCarriedTotals()
    }

    /// Records one answered request.
    func recordRequest(plugin: String, route: String, method: String, status: Int, microseconds: UInt64) {
        requestCounter(plugin: plugin, route: route, method: method, status: status).increment()
        durationHistogram(plugin: plugin, route: route).record(microseconds: microseconds)
    }

    /// `plexus_http_requests_total` of one route and status, created on first use.
    func requestCounter(plugin: String, route: String, method: String, status: Int) -> RuntimeCounter {
        let key = RequestKey(route: route, plugin: plugin, method: method, status: status)
        if let existing = requestCounters[key] { return existing }
        let counter = self.counter("plexus_http_requests_total", [("plugin", plugin), ("route", route), ("method", method), ("status", String(status))], help: "")
        requestCounters[key] = counter
        return counter
    }

    /// `plexus_http_request_duration_seconds` of one route, created on first use (loop thread only).
    func durationHistogram(plugin: String, route: String) -> RequestDurations.Series {
        requestDurations.series(plugin: plugin, route: route)
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
                                                               help: MetricFamily.help("plexus_plugin_state", fallback: ""))
            stateGauges[key] = gauge
            gauge.set(to: candidate == state ? 1.0 : 0.0)
        }
    }

    /// Sets `plexus_plugin_health{plugin,status}` like the state gauge.
    func setPluginHealth(_ plugin: String, _ status: String) {
        for candidate in ["ok", "degraded", "failing"] {
            let key = plugin + "\u{0}" + candidate
            let gauge = healthGauges[key] ?? registry.makeGauge(name: "plexus_plugin_health", labels: [("plugin", plugin), ("status", candidate)],
                                                                help: MetricFamily.help("plexus_plugin_health", fallback: ""))
            healthGauges[key] = gauge
            gauge.set(to: candidate == status ? 1.0 : 0.0)
        }
    }

    private var storageHistograms: [String: ValueHistogram] = [:]

    /// The latency histogram of one storage operation.
    func storageLatency(operation: String) -> ValueHistogram {
        if let existing = storageHistograms[operation] { return existing }
        let histogram = registry.makeValueHistogram(name: "plexus_storage_operation_seconds", labels: [("operation", operation)],
                                                    buckets: Self.latencyBuckets, help: MetricFamily.help("plexus_storage_operation_seconds", fallback: ""))
        storageHistograms[operation] = histogram
        return histogram
    }

    /// Refreshes the bus measures: per-subscriber queue depth, deliveries (the growth of each live
    /// subscription's count since the last scrape), and the durable log's appends and commits.
    func recordBus(_ events: EventRouter) {
        var depth: [String: Int] = [:]
        var live = Set<String>()
        for stat in events.bus.stats {
            depth[stat.owner, default: 0] += stat.depth
            let key = "subscription \(stat.id)"
            live.insert(key)
            mirror(key, stat.delivered, into: counter("plexus_bus_delivered_total", [("subscriber", stat.owner)], help: ""))
        }
        for key in mirrored.keys where key.hasPrefix("subscription ") && !live.contains(key) { mirrored[key] = nil }
        for (owner, value) in depth {
            gauge("plexus_bus_queue_depth", [("subscriber", owner)], help: "").set(to: Double(value))
        }
        if let statistics = events.logStatistics {
            mirror("appended", UInt64(statistics.appendedEvents), into: counter("plexus_eventlog_appended_events_total", [], help: ""))
            mirror("transactions", UInt64(statistics.transactions), into: counter("plexus_eventlog_transactions_total", [], help: ""))
        }
    }

    /// Counts the growth of a cumulative statistic since it was last mirrored (`value` in units of `1/scale`).
    private func mirror(_ key: String, _ value: UInt64, into counter: RuntimeCounter, scale: Double = 1) {
        let previous = mirrored[key] ?? 0
        if value > previous {
            if scale == 1 { counter.increment(by: Int64(value - previous)) } else { counter.increment(by: Double(value - previous) / scale) }
        }
        mirrored[key] = max(previous, value)
    }

    /// A counter by name and labels (created on first use, at zero). Its help text comes from the
    /// catalogue (``MetricFamily``) when the family is catalogued, else `help`. `carried: false`
    /// keeps it out of the shared region (a count the master reports to each worker itself).
    @discardableResult
    func counter(_ name: String, _ labels: [(String, String)], help: String, carried: Bool = true) -> RuntimeCounter {
        let key = name + labels.map { "\u{0}\($0.0)=\($0.1)" }.joined()
        if let existing = counters[key] { return existing }
        let help = MetricFamily.help(name, fallback: help)
        let slot = carried ? region?.claim(CounterSeries.encode(name: name, help: help, labels: labels)) : nil
        let counter = RuntimeCounter(registry.makeCounter(name: name, labels: labels, help: help), slot: slot)
        counters[key] = counter
        return counter
    }

    /// A gauge by name and labels (created on first use).
    func gauge(_ name: String, _ labels: [(String, String)], help: String) -> Gauge {
        let key = name + labels.map { "\u{0}\($0.0)=\($0.1)" }.joined()
        if let existing = gauges[key] { return existing }
        let gauge = registry.makeGauge(name: name, labels: labels, help: MetricFamily.help(name, fallback: help))
        gauges[key] = gauge
        return gauge
    }

    /// The exposition text, with process measures and earlier generations' totals refreshed, and
    /// the `# HELP`/`# TYPE` lines of catalogued families that have no series yet.
    func render() -> [UInt8] {
        refreshProcessMetrics()
        applyCarriedTotals()
        var text = registry.emitToBuffer()
        requestDurations.render(into: &text)
        let present = Set(String(decoding: text, as: UTF8.self).split(separator: "\n").compactMap { line -> Substring? in
            line.hasPrefix("# TYPE ") ? line.dropFirst("# TYPE ".count).split(separator: " ").first : nil
        })
        for family in MetricFamily.all where !present.contains(Substring(family.name)) {
            text += Array("# HELP \(family.name) \(family.help)\n# TYPE \(family.name) \(family.kind.rawValue)\n".utf8)
        }
        return text
    }

    /// Sets the `process_*` measures from `/proc`.
    private func refreshProcessMetrics() {
        guard let process = ProcessMetrics.read() else { return }
        mirror("cpu_microseconds", UInt64(process.cpuSeconds * 1_000_000), into: counter("process_cpu_seconds_total", [], help: "", carried: false), scale: 1_000_000)
        gauge("process_resident_memory_bytes", [], help: "").set(to: process.residentBytes)
        gauge("process_virtual_memory_bytes", [], help: "").set(to: process.virtualBytes)
        gauge("process_open_fds", [], help: "").set(to: process.openFileDescriptors)
        gauge("process_max_fds", [], help: "").set(to: process.maxFileDescriptors)
        gauge("process_start_time_seconds", [], help: "").set(to: process.startTimeSeconds)
    }

    /// Adds what earlier worker generations counted (the master's carry file) and this worker has not added yet.
    private func applyCarriedTotals() {
        guard let carriedFile else { return }
        for (series, total) in CounterCarry.read(carriedFile) {
            let delta = total - carriedApplied[series, default: 0]
            guard delta > 0, let identity = CounterSeries.decode(series) else { continue }
            carriedApplied[series] = total
            counter(identity.name, identity.labels, help: identity.help).carryOver(delta)
        }
    }

    static func residentBytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return 0 }
        return kilobytes * 1024
    }
}
