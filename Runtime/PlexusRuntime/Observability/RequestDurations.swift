/// `plexus_http_request_duration_seconds`, counted on the loop thread with no lock: each route's
/// series is a few plain integers (a count per bucket, the sum in microseconds, the count),
/// rendered in the Prometheus text format when `/metrics` is read (``RuntimeMetrics/render()``).
///
/// The Prometheus library's histogram takes a lock and walks every bucket bound as a `Double`
/// on each observation; here an observation is one integer search over the bounds in
/// microseconds and three adds. The text matches what the library wrote for the same family
/// (bounds as `Double.description`, labels escaped alike). Loop thread only (``render(into:)``
/// as well: `/metrics` is answered on the loop).
final class RequestDurations {
    /// One label set's counts.
    final class Series {
        /// `plugin="…",route="…"`, escaped.
        fileprivate let labels: [UInt8]
        /// Observations per bucket, not cumulative; the last is past the largest bound (`+Inf`).
        fileprivate var counts: [UInt64]
        fileprivate var sumMicroseconds: UInt64 = 0
        fileprivate var count: UInt64 = 0
        /// The bucket bounds in microseconds (the family's, shared).
        private let bounds: [UInt64]

        fileprivate init(labels: [UInt8], bounds: [UInt64]) {
            self.labels = labels
            self.bounds = bounds
            counts = [UInt64](repeating: 0, count: bounds.count + 1)
        }

        /// Counts one request that took `microseconds`. A bound is inclusive (`le`), as in Prometheus.
        func record(microseconds: UInt64) {
            var bucket = 0
            bounds.withUnsafeBufferPointer { bounds in
                while bucket < bounds.count && bounds[bucket] < microseconds { bucket += 1 }
            }
            counts.withUnsafeMutableBufferPointer { $0[bucket] &+= 1 }
            sumMicroseconds &+= microseconds
            count &+= 1
        }
    }

    /// The family's name.
    static let name = "plexus_http_request_duration_seconds"
    /// The bounds as written (`le`), from ``RuntimeMetrics/latencyBuckets``.
    private let boundTexts: [String]
    private let bounds: [UInt64]
    private let help: String
    private var series: [Series] = []
    private var byLabels: [String: Series] = [:]

    /// A family with `bounds` in seconds (each a whole number of microseconds).
    init(bounds: [Double], help: String) {
        self.bounds = bounds.map { UInt64(($0 * 1_000_000).rounded()) }
        boundTexts = bounds.map { $0.description }
        self.help = help
    }

    /// The series of one plugin's route (created at zero on first use; kept by the caller).
    func series(plugin: String, route: String) -> Series {
        let key = plugin + "\u{0}" + route
        if let existing = byLabels[key] { return existing }
        var labels: [UInt8] = []
        for (index, (name, value)) in [("plugin", plugin), ("route", route)].enumerated() {
            if index > 0 { labels.append(UInt8(ascii: ",")) }
            labels += Array(name.utf8)
            labels += Array("=\"".utf8)
            for byte in value.utf8 {
                switch byte {
                case UInt8(ascii: "\\"): labels += Array("\\\\".utf8)
                case UInt8(ascii: "\""): labels += Array("\\\"".utf8)
                case UInt8(ascii: "\n"): labels += Array("\\n".utf8)
                default: labels.append(byte)
                }
            }
            labels.append(UInt8(ascii: "\""))
        }
        let made = Series(labels: labels, bounds: bounds)
        byLabels[key] = made
        series.append(made)
        return made
    }

    /// Whether any series exists (then ``render(into:)`` writes the family).
    var isEmpty: Bool { series.isEmpty }

    /// Appends the family (`# HELP`, `# TYPE`, then each series' buckets, sum and count) to `text`;
    /// nothing when no series exists.
    func render(into text: inout [UInt8]) {
        guard !series.isEmpty else { return }
        text += Array("# HELP \(Self.name) \(help.replacingBackslashes)\n# TYPE \(Self.name) histogram\n".utf8)
        for entry in series {
            var cumulative: UInt64 = 0
            for (index, bound) in boundTexts.enumerated() {
                cumulative += entry.counts[index]
                line(&text, "_bucket{", entry.labels, ",le=\"\(bound)\"} \(cumulative)")
            }
            line(&text, "_bucket{", entry.labels, ",le=\"+Inf\"} \(entry.count)")
            line(&text, "_sum{", entry.labels, "} \((Double(entry.sumMicroseconds) / 1_000_000).description)")
            line(&text, "_count{", entry.labels, "} \(entry.count)")
        }
    }

    private func line(_ text: inout [UInt8], _ suffix: String, _ labels: [UInt8], _ rest: String) {
        text += Array(Self.name.utf8)
        text += Array(suffix.utf8)
        text += labels
        text += Array(rest.utf8)
        text.append(UInt8(ascii: "\n"))
    }
}

private extension String {
    /// A help text with `\` escaped, as the exposition format asks.
    var replacingBackslashes: String {
        var result = ""
        for character in self { result += character == "\\" ? "\\\\" : String(character) }
        return result
    }
}
