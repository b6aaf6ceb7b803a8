import CLibUV
import Foundation

/// The last stage every request passes, once its answer is written (or its stream begins):
/// counts it in `plexus_http_requests_total` and `plexus_http_request_duration_seconds`, and
/// hands its record to the access log.
///
/// The metric objects of each route are looked up once and kept in a table indexed by the
/// immutable route id, so the request path hashes no strings. Loop thread only.
final class AccessLogStage {
    /// One route's metric objects: its duration histogram and a counter per status seen.
    private final class RouteSeries {
        let plugin: String
        let route: String
        let method: String
        let histogram: RequestDurations.Series
        /// A counter per status seen (a few per route: a linear search beats hashing).
        var counters: [(status: Int, counter: RuntimeCounter)] = []
        /// The counter of the status counted last (``counters`` holds it): nearly every request
        /// of a route has the status of the one before.
        private var last: (status: Int, counter: Unmanaged<RuntimeCounter>)?

        /// Counts one request answered with `status`.
        func count(_ status: Int, metrics: RuntimeMetrics) {
            if let last, last.status == status {
                last.counter._withUnsafeGuaranteedRef { $0.incrementOnLoop() }
                return
            }
            let counter = counter(status, metrics: metrics)
            last = (status, Unmanaged.passUnretained(counter))
            counter.incrementOnLoop()
        }

        func counter(_ status: Int, metrics: RuntimeMetrics) -> RuntimeCounter {
            for entry in counters where entry.status == status { return entry.counter }
            let counter = metrics.requestCounter(plugin: plugin, route: route, method: method, status: status)
            counters.append((status, counter))
            return counter
        }

        init(plugin: String, route: String, method: String, histogram: RequestDurations.Series) {
            (self.plugin, self.route, self.method, self.histogram) = (plugin, route, method, histogram)
        }
    }

    /// Where answered requests are counted (nil: nowhere).
    let metrics: RuntimeMetrics?
    /// Where answered requests are logged (nil: no access log).
    var accessLog: AccessLog?
    private var series: [RouteSeries?] = []

    init(metrics: RuntimeMetrics?) {
        self.metrics = metrics
    }

    /// Records `request`, answered with `bytes` bytes on the wire.
    func record(_ request: RequestContext, bytes: Int) {
        let now = uv_hrtime()
        let micros = (now &- request.startNanoseconds) / 1000
        if let metrics {
            if request.routeID >= 0 {
                let routeSeries = series(of: request, metrics: metrics)
                routeSeries.count(request.status, metrics: metrics)
                routeSeries.histogram.record(microseconds: micros)
            } else {
                metrics.recordRequest(plugin: "-", route: "unmatched", method: request.method, status: request.status, microseconds: micros)
            }
        }
        accessLog?.record(request, bytes: bytes, microseconds: micros, at: now)
    }

    private func series(of request: RequestContext, metrics: RuntimeMetrics) -> RouteSeries {
        let id = request.routeID
        if id < series.count, let existing = series[id] { return existing }
        guard let target = request.target else { preconditionFailure("a route id without a target") }
        if id >= series.count { series.append(contentsOf: repeatElement(nil, count: id + 1 - series.count)) }
        let made: RouteSeries
        switch target {
        case .plugin(let route):
            made = RouteSeries(plugin: route.plugin.name, route: route.pattern.text, method: route.method,
                               histogram: metrics.durationHistogram(plugin: route.plugin.name, route: route.pattern.text))
        case .builtin(let builtin):
            made = RouteSeries(plugin: "-", route: builtin.pattern.text, method: builtin.method,
                               histogram: metrics.durationHistogram(plugin: "-", route: builtin.pattern.text))
        }
        series[id] = made
        return made
    }
}
