import Foundation

/// Threshold alerts from config, evaluated once a second and published on the bus as
/// `system.alert` when a measure crosses into another severity (and when it recovers).
///
/// ```toml
/// [alerts.loop_lag_ms]      # also: rss_mb, failed_plugins, failing_plugins
/// warning = 100
/// critical = 1000
/// ```
struct AlertRules {
    /// The severities, mildest first.
    static let severities = ["info", "warning", "error", "critical"]
    /// The measures a rule can watch.
    static let measures = ["loop_lag_ms", "rss_mb", "failed_plugins", "failing_plugins"]

    /// Thresholds per measure and severity.
    private(set) var thresholds: [String: [(severity: String, value: Double)]] = [:]

    init() {}

    /// Reads `alerts.<measure>.<severity> = number` entries.
    init(values: [String: String], file: String) throws {
        for (key, text) in values where key.hasPrefix("alerts.") {
            let parts = key.split(separator: ".")
            guard parts.count == 3, Self.measures.contains(String(parts[1])), Self.severities.contains(String(parts[2])) else {
                throw RuntimeError.config("\(file): \(key) is not an alert rule (alerts.<\(Self.measures.joined(separator: "|"))>.<\(Self.severities.joined(separator: "|"))>)")
            }
            guard let value = Double(text) else { throw RuntimeError.config("\(file): \(key) must be a number, found '\(text)'") }
            thresholds[String(parts[1]), default: []].append((String(parts[2]), value))
        }
        for key in thresholds.keys { thresholds[key]?.sort { $0.value < $1.value } }
    }

    /// The severity `value` reaches for `measure`, or nil when below every threshold.
    func severity(of measure: String, _ value: Double) -> (severity: String, threshold: Double)? {
        thresholds[measure]?.last { value >= $0.value }.map { ($0.severity, $0.value) }
    }

    var isEmpty: Bool { thresholds.isEmpty }
}

/// Evaluates ``AlertRules`` against the runtime's measures and reports changes.
final class AlertEvaluator {
    private let rules: AlertRules
    private var current: [String: String] = [:]
    private var timer: LoopTimer?
    private let loop: EventLoop
    private let measure: () -> [String: Double]
    private let report: (_ measure: String, _ severity: String, _ value: Double, _ threshold: Double?) -> Void

    init(rules: AlertRules, loop: EventLoop, measure: @escaping () -> [String: Double],
         report: @escaping (_ measure: String, _ severity: String, _ value: Double, _ threshold: Double?) -> Void) {
        self.rules = rules
        self.loop = loop
        self.measure = measure
        self.report = report
    }

    func start() {
        guard !rules.isEmpty else { return }
        let timer = LoopTimer(loop: loop)
        self.timer = timer
        timer.start(afterMilliseconds: 1_000, repeatingMilliseconds: 1_000) { [unowned self] in evaluate() }
        timer.unref()
    }

    func stop() {
        timer?.close()
        timer = nil
    }

    /// Compares every measure with its thresholds and reports a change of severity.
    func evaluate() {
        for (name, value) in measure() {
            let level = rules.severity(of: name, value)
            let previous = current[name]
            if level?.severity != previous {
                current[name] = level?.severity
                report(name, level?.severity ?? "resolved", value, level?.threshold)
            }
        }
    }
}
