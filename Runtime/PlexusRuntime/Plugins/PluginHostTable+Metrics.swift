import CPlexusABI
import Foundation

/// The ABI 1.3 metrics entries of the host vtable: a plugin registers families under its own
/// name and records into them (see ``PluginMetrics``).
extension PluginHostTable {
    static func installMetrics(into host: inout plexus_host) {
        host.metric_register = { host, spec, errorOut in
            let plugin = PluginInstance.from(host)
            guard let metrics = plugin.services.metrics else {
                _ = PluginHostTable.fail(HostCallFailure(PLEXUS_E_UNSUPPORTED, "metrics are not available in this process"), to: errorOut)
                return 0
            }
            guard let spec, Int(spec.pointee.struct_size) >= MemoryLayout<plexus_metric_spec>.offset(of: \.bucket_count)! + 4 else {
                _ = PluginHostTable.fail(HostCallFailure(PLEXUS_E_INVALID_ARGUMENT, "metric spec is missing or smaller than ABI 1.3's"), to: errorOut)
                return 0
            }
            let raw = spec.pointee
            let labels = (0..<Int(min(raw.label_count, 64))).map { index in raw.label_names?[index].map { String(cString: $0) } ?? "" }
            let buckets = raw.buckets.map { Array(UnsafeBufferPointer(start: $0, count: Int(min(raw.bucket_count, 64)))) } ?? []
            do {
                defer { HostCallStatus.set(PLEXUS_OK) }
                return try metrics.plugins.register(plugin: plugin.name, kind: plexus_metric_kind(rawValue: UInt32(bitPattern: raw.kind)),
                                                    name: raw.name.map { String(cString: $0) } ?? "", help: raw.help.map { String(cString: $0) } ?? "",
                                                    labelNames: labels, buckets: buckets)
            } catch {
                _ = PluginHostTable.fail(HostCallFailure((error as? PluginMetrics.Refusal)?.status ?? PLEXUS_E_INVALID_ARGUMENT, "\(error)"), to: errorOut)
                return 0
            }
        }
        host.metric_record = { host, id, op, values, count, value, errorOut in
            // Any thread: only the plugin's immutable services and PluginMetrics' locked tables are touched here.
            let plugin = PluginInstance.from(host)
            guard let metrics = plugin.services.metrics else {
                return PluginHostTable.fail(HostCallFailure(PLEXUS_E_UNSUPPORTED, "metrics are not available in this process"), to: errorOut)
            }
            let labelValues = (0..<Int(min(count, 64))).map { index in values.map { PluginHostTable.labelText($0[index]) } ?? "" }
            let operation = plexus_metric_op(rawValue: UInt32(bitPattern: op))
            do {
                let (family, labels) = try metrics.plugins.check(plugin: plugin.name, id: id, op: operation, labelValues: labelValues, value: value)
                let loop = plugin.services.loop
                if loop.inLoopThread {
                    metrics.plugins.apply(family, labels: labels, op: operation, value: value)
                } else {
                    loop.execute { metrics.plugins.apply(family, labels: labels, op: operation, value: value) }
                }
                HostCallStatus.set(PLEXUS_OK)
                return Int32(PLEXUS_OK.rawValue)
            } catch let refusal {
                if metrics.plugins.firstTime("\(refusal)") {
                    plugin.services.logger.warning("metric recording refused (logged once): \(refusal)", metadata: ["plugin": "\(plugin.name)"])
                }
                return PluginHostTable.fail(HostCallFailure((refusal as? PluginMetrics.Refusal)?.status ?? PLEXUS_E_INVALID_ARGUMENT, "\(refusal)"), to: errorOut)
            }
        }
    }

    /// A label value as text (invalid UTF-8 repaired).
    private static func labelText(_ bytes: plexus_bytes) -> String {
        guard let data = bytes.data, bytes.length > 0 else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: data, count: bytes.length), as: UTF8.self)
    }
}
