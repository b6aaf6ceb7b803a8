import CPlexusABI
#if canImport(Glibc)
import Glibc
#endif

/// Metrics over the host vtable (ABI 1.3); recording is safe from any thread.
struct HostMetricsDriver: MetricsDriver {
    let bridge: HostBridge

    var isAvailable: Bool { bridge.has(\.metric_record) }

    func register(_ kind: MetricKind, name: String, help: String, labels: [String], buckets: [Double]) -> Result<UInt64, MetricError> {
        let raw = switch kind {
        case .counter: PLEXUS_METRIC_COUNTER
        case .gauge: PLEXUS_METRIC_GAUGE
        case .histogram: PLEXUS_METRIC_HISTOGRAM
        }
        return bridge.registerMetric(raw, name, help, labels, buckets)
    }

    func record(_ id: UInt64, _ operation: MetricOperation, _ value: Double, labels: [String]) {
        let raw = switch operation {
        case .add: PLEXUS_METRIC_ADD
        case .set: PLEXUS_METRIC_SET
        case .observe: PLEXUS_METRIC_OBSERVE
        }
        bridge.recordMetric(id, raw, value, labels)
    }

    func raiseAlert(_ severity: AlertSeverity, name: String, detail: String?) -> Result<Void, MetricError> {
        guard bridge.has(\.alert_raise), let raise = bridge.host.pointee.alert_raise else {
            return .failure(MetricError(description: "this runtime takes no plugin alerts (ABI 1.5 or newer needed)"))
        }
        let host = bridge.host
        var message = [CChar](repeating: 0, count: 512)
        let status = message.withUnsafeMutableBufferPointer { text in
            var error = plexus_error(message: text.baseAddress, capacity: text.count)
            return severity.rawValue.withCString { severityText in
                name.withCString { nameText in
                    guard let detail else { return raise(host, severityText, nameText, nil, &error) }
                    return detail.withCString { raise(host, severityText, nameText, $0, &error) }
                }
            }
        }
        guard status == Int32(PLEXUS_OK.rawValue) else {
            let reason = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return .failure(MetricError(description: reason.isEmpty ? "alert '\(name)' was refused" : reason))
        }
        return .success(())
    }

    func reportUnusable(_ text: String) {
        // The log entry is loop-thread only; swift-metrics may create metrics on any thread.
        nonisolated(unsafe) let host = bridge.host
        host.pointee.post(host, { user in
            let box = Unmanaged<LogLine>.fromOpaque(user!).takeRetainedValue()
            box.text.withCString { box.host.pointee.log(box.host, Int32(PLEXUS_LOG_WARNING.rawValue), $0) }
        }, Unmanaged.passRetained(LogLine(host: host, text: text)).toOpaque())
    }
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
