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
    let bridge: HostBridge

    /// Whether the runtime takes plugin metrics (ABI 1.3 or newer).
    public var isAvailable: Bool { bridge.has(\.metric_record) }

    /// A counter family: a count that only grows. `name` ends in `_total`.
    public func counter(_ name: String, help: String, labels: [String] = []) throws -> MetricCounter {
        MetricCounter(series: try register(PLEXUS_METRIC_COUNTER, name, help, labels, []))
    }

    /// A gauge family: a value that goes up and down.
    public func gauge(_ name: String, help: String, labels: [String] = []) throws -> MetricGauge {
        MetricGauge(series: try register(PLEXUS_METRIC_GAUGE, name, help, labels, []))
    }

    /// A histogram family; `buckets` are upper bounds, ascending (empty: the runtime's latency buckets, in seconds).
    public func histogram(_ name: String, help: String, labels: [String] = [], buckets: [Double] = []) throws -> MetricHistogram {
        MetricHistogram(series: try register(PLEXUS_METRIC_HISTOGRAM, name, help, labels, buckets))
    }

    /// A swift-metrics backend that records into this plugin's metrics.
    public var factory: PluginMetricsFactory { PluginMetricsFactory(bridge: bridge) }

    private func register(_ kind: plexus_metric_kind, _ name: String, _ help: String, _ labels: [String], _ buckets: [Double]) throws -> MetricSeries {
        guard isAvailable else { throw MetricError(description: "metric '\(name)': the runtime is older than ABI 1.3 and takes no plugin metrics") }
        switch bridge.registerMetric(kind, name, help, labels, buckets) {
        case let .success(id): return MetricSeries(bridge: bridge, id: id, labelCount: labels.count)
        case let .failure(error): throw error
        }
    }
}

/// Why the runtime refused a metric registration (the text says what and how to fix it).
public struct MetricError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

/// One registered family, as the recording types hold it.
struct MetricSeries: Sendable {
    let bridge: HostBridge
    let id: UInt64
    let labelCount: Int

    func record(_ op: plexus_metric_op, _ value: Double, _ labels: [String]) {
        bridge.recordMetric(id, op, value, labels)
    }
}

/// A registered counter family.
public struct MetricCounter: Sendable {
    let series: MetricSeries
    /// Adds `amount` (not negative) to the series of `labels` (values in the registered label order).
    public func increment(by amount: Double = 1, labels: [String] = []) { series.record(PLEXUS_METRIC_ADD, amount, labels) }
}

/// A registered gauge family.
public struct MetricGauge: Sendable {
    let series: MetricSeries
    /// Sets the series of `labels` to `value`.
    public func set(_ value: Double, labels: [String] = []) { series.record(PLEXUS_METRIC_SET, value, labels) }
    /// Adds `amount` (either sign) to the series of `labels`.
    public func add(_ amount: Double, labels: [String] = []) { series.record(PLEXUS_METRIC_ADD, amount, labels) }
}

/// A registered histogram family.
public struct MetricHistogram: Sendable {
    let series: MetricSeries
    /// Counts one observation of `value` in the series of `labels`.
    public func observe(_ value: Double, labels: [String] = []) { series.record(PLEXUS_METRIC_OBSERVE, value, labels) }
}

extension HostBridge {
    /// `metric_register`, with the C strings alive for the call.
    func registerMetric(_ kind: plexus_metric_kind, _ name: String, _ help: String, _ labels: [String], _ buckets: [Double]) -> Result<UInt64, MetricError> {
        var labelPointers: [UnsafePointer<CChar>?] = labels.map { UnsafePointer(strdup($0)) }
        defer { for pointer in labelPointers { free(UnsafeMutablePointer(mutating: pointer)) } }
        var message = [CChar](repeating: 0, count: 512)
        let id = name.withCString { name in
            help.withCString { help in
                labelPointers.withUnsafeMutableBufferPointer { labelNames in
                    buckets.withUnsafeBufferPointer { bounds in
                        message.withUnsafeMutableBufferPointer { text in
                            var spec = plexus_metric_spec(struct_size: UInt32(MemoryLayout<plexus_metric_spec>.size), kind: Int32(kind.rawValue),
                                                          name: name, help: help, label_names: UnsafePointer(labelNames.baseAddress),
                                                          label_count: UInt32(labels.count), buckets: bounds.baseAddress, bucket_count: UInt32(buckets.count))
                            var error = plexus_error(message: text.baseAddress, capacity: text.count)
                            return host.pointee.metric_register(host, &spec, &error)
                        }
                    }
                }
            }
        }
        guard id == 0 else { return .success(id) }
        let reason = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return .failure(MetricError(description: reason.isEmpty ? "metric '\(name)' was refused" : reason))
    }

    /// `metric_record` (any thread); a refusal is logged by the runtime.
    func recordMetric(_ id: UInt64, _ op: plexus_metric_op, _ value: Double, _ labels: [String]) {
        var pack = BytePack([])
        for label in labels { pack.append(label.utf8) }
        pack.withBytes { values in
            values.withUnsafeBufferPointer { values in
                _ = host.pointee.metric_record(host, id, Int32(op.rawValue), values.baseAddress, UInt32(values.count), value, nil)
            }
        }
    }
}
