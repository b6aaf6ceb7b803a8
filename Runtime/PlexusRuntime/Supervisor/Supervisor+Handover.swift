import Foundation

extension Supervisor {
    /// The serving worker died (or froze writing its backtrace): sorts its connections (see
    /// ``ConnectionKeeper``) and returns those the next worker takes over.
    func handOver(_ worker: WorkerProcess, blaming plugin: String?) -> [Int32] {
        sortConnections(of: worker, blaming: plugin, keepingIdle: true)
    }

    /// A draining generation was killed (memory, watchdog): its requests in flight are answered
    /// as after a crash; its idle connections end, as its drain would have ended them.
    func endConnections(of worker: WorkerProcess, blaming plugin: String?) {
        _ = sortConnections(of: worker, blaming: plugin, keepingIdle: false)
    }

    private func sortConnections(of worker: WorkerProcess, blaming plugin: String?, keepingIdle: Bool) -> [Int32] {
        guard let keeper = worker.connections else { return [] }
        var (handed, outcome) = keeper.takeOver(blaming: plugin)
        if !keepingIdle {
            for fd in handed {
                shutdown(fd, Int32(SHUT_RDWR))
                close(fd)
            }
            handed = []
            outcome.closed += outcome.handedOver
            outcome.handedOver = 0
        }
        logger.notice("connections of the crashed worker: \(outcome)", metadata: ["worker": "\(worker.pid)", "generation": "\(worker.generation)"])
        return handed
    }
}
