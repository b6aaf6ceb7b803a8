import CoreMetrics
import CPlexusABI

/// A swift-metrics backend over the plugin ABI: swift-metrics counters, recorders, meters and
/// timers of this plugin become its metrics at the runtime's `/metrics` (see ``Metrics``).
///
/// A metric's label becomes its name and its dimension keys its label names. A counter's name
/// gets `_total` appended when it lacks it; a timer records seconds (`_seconds` appended when
/// missing) into a histogram; an aggregating recorder is a histogram, a non-aggregating one and
/// a meter are gauges. The help text is `<label> (swift-metrics)`. A metric the runtime refuses
/// (an invalid name, or the same name with other dimension keys) records nothing: the refusal is
/// logged once through the plugin's log.
public struct PluginMetricsFactory: MetricsFactory {
    let bridge: HostBridge

    public func makeCounter(label: String, dimensions: [(String, String)]) -> CounterHandler {
        PluginMetricHandler(bridge: bridge, kind: PLEXUS_METRIC_COUNTER, name: Self.suffixed(label, "_total"), dimensions: dimensions)
    }

    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> FloatingPointCounterHandler {
        PluginMetricHandler(bridge: bridge, kind: PLEXUS_METRIC_COUNTER, name: Self.suffixed(label, "_total"), dimensions: dimensions)
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> MeterHandler {
        PluginMetricHandler(bridge: bridge, kind: PLEXUS_METRIC_GAUGE, name: Self.metricName(label), dimensions: dimensions)
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> RecorderHandler {
        PluginMetricHandler(bridge: bridge, kind: aggregate ? PLEXUS_METRIC_HISTOGRAM : PLEXUS_METRIC_GAUGE, name: Self.metricName(label), dimensions: dimensions)
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> TimerHandler {
        PluginMetricHandler(bridge: bridge, kind: PLEXUS_METRIC_HISTOGRAM, name: Self.suffixed(label, "_seconds"), dimensions: dimensions)
    }

    public func destroyCounter(_ handler: CounterHandler) {}
    public func destroyFloatingPointCounter(_ handler: FloatingPointCounterHandler) {}
    public func destroyMeter(_ handler: MeterHandler) {}
    public func destroyRecorder(_ handler: RecorderHandler) {}
    public func destroyTimer(_ handler: TimerHandler) {}

    private static func suffixed(_ label: String, _ suffix: String) -> String {
        let name = metricName(label)
        return name.hasSuffix(suffix) ? name : name + suffix
    }

    /// `label` as a metric or label name: lower case, every character outside `[a-z0-9_]` as `_`,
    /// and `_` before a leading digit (`http.requests` becomes `http_requests`).
    static func metricName(_ label: String) -> String {
        let name = String(label.lowercased().unicodeScalars.map { ("a"..."z").contains($0) || ("0"..."9").contains($0) ? Character($0) : "_" })
        return name.first.map { $0.isNumber } == true ? "_" + name : name
    }

    /// Bootstraps this plugin's copy of swift-metrics with the plugin's backend, unless the plugin
    /// (or a test process sharing one copy with the runtime) bootstrapped it already.
    static func bootstrapIfUnset(bridge: HostBridge) {
        guard bridge.has(\.metric_record), MetricsSystem.factory is NOOPMetricsHandler else { return }
        MetricsSystem.bootstrap(PluginMetricsFactory(bridge: bridge))
    }
}

/// One swift-metrics metric: a registered family and the label values of its dimensions.
final class PluginMetricHandler: CounterHandler, FloatingPointCounterHandler, MeterHandler, RecorderHandler, TimerHandler, @unchecked Sendable {
    private let series: MetricSeries?
    private let values: [String]
    private let kind: plexus_metric_kind

    init(bridge: HostBridge, kind: plexus_metric_kind, name: String, dimensions: [(String, String)]) {
        self.kind = kind
        values = dimensions.map(\.1)
        switch bridge.registerMetric(kind, name, "\(name) (swift-metrics)", dimensions.map { PluginMetricsFactory.metricName($0.0) }, []) {
        case let .success(id):
            series = MetricSeries(bridge: bridge, id: id, labelCount: dimensions.count)
        case let .failure(error):
            series = nil
            // The log entry is loop-thread only; swift-metrics may create metrics on any thread.
            nonisolated(unsafe) let host = bridge.host
            let text = "swift-metrics '\(name)' records nothing: \(error)"
            host.pointee.post(host, { user in
                let box = Unmanaged<LogLine>.fromOpaque(user!).takeRetainedValue()
                box.text.withCString { box.host.pointee.log(box.host, Int32(PLEXUS_LOG_WARNING.rawValue), $0) }
            }, Unmanaged.passRetained(LogLine(host: host, text: text)).toOpaque())
        }
    }

    func increment(by amount: Int64) { series?.record(PLEXUS_METRIC_ADD, Double(amount), values) }
    func increment(by amount: Double) { series?.record(PLEXUS_METRIC_ADD, amount, values) }
    func decrement(by amount: Double) { series?.record(PLEXUS_METRIC_ADD, -amount, values) }
    func reset() {}
    func set(_ value: Int64) { set(Double(value)) }
    func set(_ value: Double) { series?.record(PLEXUS_METRIC_SET, value, values) }
    func record(_ value: Int64) { record(Double(value)) }
    func record(_ value: Double) { series?.record(kind == PLEXUS_METRIC_HISTOGRAM ? PLEXUS_METRIC_OBSERVE : PLEXUS_METRIC_SET, value, values) }
    func recordNanoseconds(_ duration: Int64) { series?.record(PLEXUS_METRIC_OBSERVE, Double(duration) / 1e9, values) }
}

/// A log line carried to the loop thread.
private final class LogLine: @unchecked Sendable {
    let host: UnsafePointer<plexus_host>
    let text: String
    init(host: UnsafePointer<plexus_host>, text: String) {
        self.host = host
        self.text = text
    }
}
