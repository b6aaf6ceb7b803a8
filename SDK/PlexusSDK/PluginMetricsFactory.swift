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
    let driver: any MetricsDriver

    public func makeCounter(label: String, dimensions: [(String, String)]) -> CounterHandler {
        PluginMetricHandler(driver: driver, kind: .counter, name: Self.suffixed(label, "_total"), dimensions: dimensions)
    }

    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> FloatingPointCounterHandler {
        PluginMetricHandler(driver: driver, kind: .counter, name: Self.suffixed(label, "_total"), dimensions: dimensions)
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> MeterHandler {
        PluginMetricHandler(driver: driver, kind: .gauge, name: Self.metricName(label), dimensions: dimensions)
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> RecorderHandler {
        PluginMetricHandler(driver: driver, kind: aggregate ? .histogram : .gauge, name: Self.metricName(label), dimensions: dimensions)
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> TimerHandler {
        PluginMetricHandler(driver: driver, kind: .histogram, name: Self.suffixed(label, "_seconds"), dimensions: dimensions)
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
    static func bootstrapIfUnset(driver: any MetricsDriver) {
        guard driver.isAvailable, MetricsSystem.factory is NOOPMetricsHandler else { return }
        MetricsSystem.bootstrap(PluginMetricsFactory(driver: driver))
    }
}

/// One swift-metrics metric: a registered family and the label values of its dimensions.
final class PluginMetricHandler: CounterHandler, FloatingPointCounterHandler, MeterHandler, RecorderHandler, TimerHandler, @unchecked Sendable {
    private let series: MetricSeries?
    private let values: [String]
    private let kind: MetricKind

    init(driver: any MetricsDriver, kind: MetricKind, name: String, dimensions: [(String, String)]) {
        self.kind = kind
        values = dimensions.map(\.1)
        switch driver.register(kind, name: name, help: "\(name) (swift-metrics)", labels: dimensions.map { PluginMetricsFactory.metricName($0.0) }, buckets: []) {
        case let .success(id):
            series = MetricSeries(driver: driver, id: id, labelCount: dimensions.count)
        case let .failure(error):
            series = nil
            driver.reportUnusable("swift-metrics '\(name)' records nothing: \(error)")
        }
    }

    func increment(by amount: Int64) { series?.record(.add, Double(amount), values) }
    func increment(by amount: Double) { series?.record(.add, amount, values) }
    func decrement(by amount: Double) { series?.record(.add, -amount, values) }
    func reset() {}
    func set(_ value: Int64) { set(Double(value)) }
    func set(_ value: Double) { series?.record(.set, value, values) }
    func record(_ value: Int64) { record(Double(value)) }
    func record(_ value: Double) { series?.record(kind == .histogram ? .observe : .set, value, values) }
    func recordNanoseconds(_ duration: Int64) { series?.record(.observe, Double(duration) / 1e9, values) }
}

