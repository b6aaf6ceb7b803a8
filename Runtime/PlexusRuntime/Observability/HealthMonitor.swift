import CPlexusABI
import Foundation
import Logging

/// Calls every running plugin's health hook periodically and keeps the latest report.
///
/// A hook that takes longer than the timeout makes the plugin `degraded` (the hook runs on the
/// loop, so the time it took is the harm it did). Transitions are logged and handed to
/// ``onTransition`` (the runtime publishes them on the bus).
final class HealthMonitor {
    /// One plugin's latest health.
    struct Report: Codable, Sendable {
        var status: String
        var detail: String
        var checkedAt: Date
        var durationMicroseconds: UInt64
    }

    private let loop: EventLoop
    private let group: PluginGroup
    private let logger: Logger
    private let interval: UInt64
    private let timeout: UInt64
    private var timer: LoopTimer?
    private(set) var reports: [String: Report] = [:]
    var onTransition: ((_ plugin: String, _ from: String?, _ to: Report) -> Void)?

    init(loop: EventLoop, group: PluginGroup, logger: Logger, intervalMilliseconds: UInt64, timeoutMilliseconds: UInt64) {
        self.loop = loop
        self.group = group
        self.logger = logger
        self.interval = intervalMilliseconds
        self.timeout = timeoutMilliseconds
    }

    func start() {
        checkAll()
        let timer = LoopTimer(loop: loop)
        self.timer = timer
        timer.start(afterMilliseconds: interval, repeatingMilliseconds: interval) { [unowned self] in checkAll() }
        timer.unref()
    }

    func stop() {
        timer?.close()
        timer = nil
    }

    /// Checks every running plugin now.
    func checkAll() {
        for plugin in group.plugins where plugin.status.state == .running {
            check(plugin)
        }
    }

    private func check(_ plugin: PluginInstance) {
        guard let descriptor = plugin.descriptor?.pointee else { return }
        var report = Report(status: "ok", detail: "", checkedAt: Date(), durationMicroseconds: 0)
        if let hook = descriptor.on_health {
            var buffer = [CChar](repeating: 0, count: 512)
            let started = DispatchTime.now().uptimeNanoseconds
            let status = buffer.withUnsafeMutableBufferPointer { text -> Int32 in
                var health = plexus_health(struct_size: UInt32(MemoryLayout<plexus_health>.size), status: 0,
                                           detail: plexus_error(message: text.baseAddress, capacity: text.count))
                Blame.around(plugin, "on_health") { hook(descriptor.ctx, &health) }
                return health.status
            }
            report.durationMicroseconds = (DispatchTime.now().uptimeNanoseconds - started) / 1000
            report.detail = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            switch status {
            case Int32(PLEXUS_HEALTH_OK.rawValue): report.status = "ok"
            case Int32(PLEXUS_HEALTH_DEGRADED.rawValue): report.status = "degraded"
            default: report.status = "failing"
            }
            if report.durationMicroseconds > timeout * 1000 && report.status == "ok" {
                report.status = "degraded"
                report.detail = "health check took \(report.durationMicroseconds / 1000) ms (limit \(timeout) ms)" + (report.detail.isEmpty ? "" : "; \(report.detail)")
            }
        }
        let previous = reports[plugin.name]?.status
        reports[plugin.name] = report
        if previous != report.status {
            if previous != nil || report.status != "ok" {
                logger.log(level: report.status == "ok" ? .notice : .warning, "plugin health \(previous ?? "unknown") -> \(report.status)",
                           metadata: ["plugin": "\(plugin.name)", "detail": "\(report.detail)"])
            }
            onTransition?(plugin.name, previous, report)
        }
    }
}
