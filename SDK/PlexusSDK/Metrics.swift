import CPlexusABI
#if canImport(Glibc)
import Glibc
#endif

/// A plugin's own metrics, exposed by the runtime at `/metrics` as `<plugin>_<name>` (the
/// plugin's name with `-` as `_`), beside the runtime's.
///
/// ```swift
/// let greetings = try context.metrics.counter("greetings_total", help: "Greetings sent, by language", labels: ["language"])
/// greetings.increment(labels: ["en"])
/// ```
///
/// Registration is checked at once and throws ``MetricError`` with the reason: names match
/// `[a-z_][a-z0-9_]*`, counters (and only counters) end in `_total`, help text is required,
/// at most 8 labels. Recording may happen on any thread (also inside
/// ``PluginContext/offLoop(_:)``); a recording the runtime refuses (a wrong number of label
/// values, a negative counter step, a family past 1000 label sets) is dropped and logged once
/// by the runtime. Counters survive worker reloads like the runtime's own.
///
/// swift-metrics works too: the SDK bootstraps this plugin's copy of `MetricsSystem` with
/// ``factory`` before `init(context:)` (unless the plugin bootstrapped it already), so
/// `Counter(label: "jobs_total", dimensions: [("kind", "solve")])` lands here as well.
@PluginActor
public struct Metrics {
    let driver: any MetricsDriver

    /// Whether the runtime takes plugin metrics (ABI 1.3 or newer).
    public var isAvailable: Bool { driver.isAvailable }

    /// Raises an alert in the runtime's alert tiers: the runtime publishes `system.alert` with
    /// this plugin's name, `name`, `severity` and `detail` (ABI 1.5). `name` is 1 to 128 bytes,
    /// `detail` at most 1024. Throws ``MetricError`` when refused or on an older runtime.
    public func alert(_ severity: AlertSeverity, _ name: String, detail: String? = nil) throws {
        try driver.raiseAlert(severity, name: name, detail: detail).get()
    }

    /// A counter family: a count that only grows. `name` ends in `_total`.
    public func counter(_ name: String, help: String, labels: [String] = []) throws -> MetricCounter {
        MetricCounter(series: try register(.counter, name, help, labels, []))
    }

    /// A gauge family: a value that goes up and down.
    public func gauge(_ name: String, help: String, labels: [String] = []) throws -> MetricGauge {
        MetricGauge(series: try register(.gauge, name, help, labels, []))
    }

    /// A histogram family; `buckets` are upper bounds, ascending (empty: the runtime's latency buckets, in seconds).
    public func histogram(_ name: String, help: String, labels: [String] = [], buckets: [Double] = []) throws -> MetricHistogram {
        MetricHistogram(series: try register(.histogram, name, help, labels, buckets))
    }

    /// A swift-metrics backend that records into this plugin's metrics.
    public var factory: PluginMetricsFactory { PluginMetricsFactory(driver: driver) }

    private func register(_ kind: MetricKind, _ name: String, _ help: String, _ labels: [String], _ buckets: [Double]) throws -> MetricSeries {
        guard isAvailable else { throw MetricError(description: "metric '\(name)': the runtime is older than ABI 1.3 and takes no plugin metrics") }
        switch driver.register(kind, name: name, help: help, labels: labels, buckets: buckets) {
        case let .success(id): return MetricSeries(driver: driver, id: id, labelCount: labels.count)
        case let .failure(error): throw error
        }
    }
}

/// Why the runtime refused a metric registration (the text says what and how to fix it).
public struct MetricError: Error, CustomStringConvertible, Sendable {
    /// The reason, with how to fix it.
    public let description: String

    /// A refusal for `description` (for metrics drivers and tests).
    public init(description: String) { self.description = description }
}

/// One registered family, as the recording types hold it.
struct MetricSeries: Sendable {
    let driver: any MetricsDriver
    let id: UInt64
    let labelCount: Int

    func record(_ op: MetricOperation, _ value: Double, _ labels: [String]) {
        driver.record(id, op, value, labels: labels)
    }
}

/// A registered counter family.
public struct MetricCounter: Sendable {
    let series: MetricSeries
    /// Adds `amount` (not negative) to the series of `labels` (values in the registered label order).
    public func increment(by amount: Double = 1, labels: [String] = []) { series.record(.add, amount, labels) }
}

/// A registered gauge family.
public struct MetricGauge: Sendable {
    let series: MetricSeries
    /// Sets the series of `labels` to `value`.
    public func set(_ value: Double, labels: [String] = []) { series.record(.set, value, labels) }
    /// Adds `amount` (either sign) to the series of `labels`.
    public func add(_ amount: Double, labels: [String] = []) { series.record(.add, amount, labels) }
}

/// A registered histogram family.
public struct MetricHistogram: Sendable {
    let series: MetricSeries
    /// Counts one observation of `value` in the series of `labels`.
    public func observe(_ value: Double, labels: [String] = []) { series.record(.observe, value, labels) }
}

/// The runtime's alert tiers, mildest first.
public enum AlertSeverity: String, Sendable, CaseIterable {
    case info, warning, error, critical
}
