import Foundation

extension Supervisor {
    /// The serving worker died (or froze writing its backtrace): sorts its connections (see
    /// ``ConnectionKeeper``) and returns those the next worker takes over.
    func handOver(_ worker: WorkerProcess, blaming plugin: String?) -> [Int32] {
        guard let keeper = worker.connections else { return [] }
        let (handed, outcome) = keeper.takeOver(blaming: plugin)
        logger.notice("connections of the crashed worker: \(outcome)", metadata: ["worker": "\(worker.pid)"])
        return handed
    }
}
