import CPlexusABI
import Foundation
import Prometheus

/// The metric families plugins register through the ABI (`metric_register`, `metric_record`),
/// exposed at `/metrics` beside the runtime's own as `<plugin>_<name>` (the plugin's name with
/// `-` as `_`).
///
/// Registration checks every name, label and bucket and refuses a family another plugin owns.
/// Recording is checked at once on the calling thread (any thread) and applied on the loop;
/// plugin counters are runtime counters, so they survive worker reloads like the runtime's.
final class PluginMetrics: @unchecked Sendable {
    /// A registered family.
    struct Family {
        let id: UInt64
        let owner: String
        let name: String
        let kind: plexus_metric_kind
        let help: String
        let labelNames: [String]
        let buckets: [Double]
    }

    /// A registration or recording the runtime refused.
    struct Refusal: Error, CustomStringConvertible {
        let description: String
        /// The ABI 1.4 code a plugin reads with `last_status`.
        var status: plexus_status = PLEXUS_E_INVALID_ARGUMENT
    }

    static let maxLabels = 8
    static let maxBuckets = 32
    static let maxLabelSets = 1_000

    private let lock = NSLock()
    private var families: [UInt64: Family] = [:]
    private var byName: [String: UInt64] = [:]
    private var labelSets: [UInt64: Set<[String]>] = [:]
    private var histograms: [String: ValueHistogram] = [:]
    private var nextID: UInt64 = 1
    private var logged = Set<String>()
    private unowned let metrics: RuntimeMetrics

    init(metrics: RuntimeMetrics) {
        self.metrics = metrics
    }

    /// Registers `name` for `plugin`; the same registration again returns the same id.
    func register(plugin: String, kind: plexus_metric_kind, name: String, help: String, labelNames: [String], buckets: [Double]) throws -> UInt64 {
        let what = "plugin '\(plugin)' metric '\(name)'"
        guard Self.isMetricName(name), name.count <= 64 else {
            throw Refusal(description: "\(what): the name must match [a-z_][a-z0-9_]* and be at most 64 characters")
        }
        guard kind == PLEXUS_METRIC_COUNTER || kind == PLEXUS_METRIC_GAUGE || kind == PLEXUS_METRIC_HISTOGRAM else {
            throw Refusal(description: "\(what): kind \(kind.rawValue) is not a counter (0), gauge (1) or histogram (2)")
        }
        guard (kind == PLEXUS_METRIC_COUNTER) == name.hasSuffix("_total") else {
            throw Refusal(description: kind == PLEXUS_METRIC_COUNTER ? "\(what): a counter's name ends in _total"
                                                                      : "\(what): only a counter's name ends in _total")
        }
        guard !help.isEmpty, !help.contains("\n") else { throw Refusal(description: "\(what): help text is required, on one line") }
        guard labelNames.count <= Self.maxLabels else { throw Refusal(description: "\(what): at most \(Self.maxLabels) labels") }
        for label in labelNames where !Self.isMetricName(label) || label.hasPrefix("__") || (kind == PLEXUS_METRIC_HISTOGRAM && label == "le") {
            throw Refusal(description: "\(what): label '\(label)' must match [a-z_][a-z0-9_]*, not start with __ (and a histogram's cannot be 'le')")
        }
        guard Set(labelNames).count == labelNames.count else { throw Refusal(description: "\(what): a label name is repeated") }
        let bounds = kind == PLEXUS_METRIC_HISTOGRAM ? (buckets.isEmpty ? RuntimeMetrics.latencyBuckets : buckets) : []
        guard bounds.count <= Self.maxBuckets, bounds.allSatisfy(\.isFinite), zip(bounds, bounds.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw Refusal(description: "\(what): buckets must be finite, strictly ascending and at most \(Self.maxBuckets)")
        }
        let full = plugin.replacingOccurrences(of: "-", with: "_") + "_" + name
        guard !full.hasPrefix("plexus_"), !full.hasPrefix("process_") else {
            throw Refusal(description: "\(what): '\(full)' would take a name reserved for the runtime (plexus_*, process_*)")
        }
        return try lock.withLock {
            if let existing = byName[full].flatMap({ families[$0] }) {
                guard existing.owner == plugin else {
                    throw Refusal(description: "\(what): '\(full)' is already registered by plugin '\(existing.owner)'", status: PLEXUS_E_ALREADY_EXISTS)
                }
                guard existing.kind == kind, existing.labelNames == labelNames, existing.buckets == bounds else {
                    throw Refusal(description: "\(what): already registered with another kind, labels or buckets", status: PLEXUS_E_ALREADY_EXISTS)
                }
                return existing.id
            }
            let id = nextID
            nextID += 1
            families[id] = Family(id: id, owner: plugin, name: full, kind: kind, help: help, labelNames: labelNames, buckets: bounds)
            byName[full] = id
            return id
        }
    }

    /// Checks a recording by `plugin` (any thread) and returns what to apply on the loop.
    func check(plugin: String, id: UInt64, op: plexus_metric_op, labelValues: [String], value: Double) throws -> (Family, [(String, String)]) {
        try lock.withLock {
            guard let family = families[id], family.owner == plugin else {
                throw Refusal(description: "plugin '\(plugin)': metric id \(id) is not one of its registered metrics", status: PLEXUS_E_NOT_FOUND)
            }
            guard labelValues.count == family.labelNames.count else {
                throw Refusal(description: "plugin '\(plugin)' metric '\(family.name)': \(labelValues.count) label values for \(family.labelNames.count) labels (\(family.labelNames.joined(separator: ", ")))")
            }
            let allowed: Bool
            switch family.kind {
            case PLEXUS_METRIC_COUNTER: allowed = op == PLEXUS_METRIC_ADD
            case PLEXUS_METRIC_GAUGE: allowed = op == PLEXUS_METRIC_ADD || op == PLEXUS_METRIC_SET
            default: allowed = op == PLEXUS_METRIC_OBSERVE
            }
            guard allowed else { throw Refusal(description: "plugin '\(plugin)' metric '\(family.name)': op \(op.rawValue) does not apply to this kind of metric") }
            guard labelValues.allSatisfy({ $0.utf8.count <= 256 }) else {
                throw Refusal(description: "plugin '\(plugin)' metric '\(family.name)': a label value is longer than 256 bytes")
            }
            guard value.isFinite else { throw Refusal(description: "plugin '\(plugin)' metric '\(family.name)': the value is not a finite number") }
            guard family.kind != PLEXUS_METRIC_COUNTER || value >= 0 else {
                throw Refusal(description: "plugin '\(plugin)' metric '\(family.name)': a counter only grows (added \(value))")
            }
            var sets = labelSets[id, default: []]
            if !sets.contains(labelValues) {
                guard sets.count < Self.maxLabelSets else {
                    throw Refusal(description: "plugin '\(plugin)' metric '\(family.name)': more than \(Self.maxLabelSets) label sets; fix: use labels with few values", status: PLEXUS_E_LIMIT_REACHED)
                }
                sets.insert(labelValues)
                labelSets[id] = sets
            }
            return (family, Array(zip(family.labelNames, labelValues)))
        }
    }

    /// Whether `refusal` is new (refused recordings are logged once each, not once per call).
    func firstTime(_ refusal: String) -> Bool {
        lock.withLock { logged.count < 1_000 && logged.insert(refusal).inserted }
    }

    /// Applies a checked recording (loop thread).
    func apply(_ family: Family, labels: [(String, String)], op: plexus_metric_op, value: Double) {
        switch family.kind {
        case PLEXUS_METRIC_COUNTER:
            metrics.counter(family.name, labels, help: family.help).increment(by: value)
        case PLEXUS_METRIC_GAUGE:
            let gauge = metrics.gauge(family.name, labels, help: family.help)
            if op == PLEXUS_METRIC_SET { gauge.set(to: value) } else { gauge.increment(by: value) }
        default:
            let key = family.name + labels.map { "\u{0}\($0.0)=\($0.1)" }.joined()
            let histogram = histograms[key] ?? metrics.registry.makeValueHistogram(name: family.name, labels: labels, buckets: family.buckets, help: family.help)
            histograms[key] = histogram
            histogram.record(value)
        }
    }

    private static func isMetricName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, first == "_" || ("a"..."z").contains(first) else { return false }
        return text.unicodeScalars.allSatisfy { $0 == "_" || ("a"..."z").contains($0) || ("0"..."9").contains($0) }
    }
}
