import CoreMetrics
import Prometheus

extension RuntimeMetrics {
    /// Installs the Prometheus backend of swift-metrics for this process (once; a process that
    /// bootstrapped it already keeps its own): what runtime code or a library it links records
    /// through swift-metrics appears at `/metrics`. Plugins link their own copy of swift-metrics,
    /// which the SDK points at the ABI (``PluginMetrics``).
    func bootstrapSwiftMetrics() {
        guard MetricsSystem.factory is NOOPMetricsHandler else { return }
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    }
}
