import Foundation

extension Supervisor {
    /// SIGUSR1 on the master (logrotate's `postrotate`): every worker that may write the access
    /// log reopens it (the serving one, a reload's candidate, generations still draining).
    func forwardReopen() {
        var workers: [WorkerProcess] = retired
        if let current { workers.append(current) }
        if let candidate { workers.append(candidate.worker) }
        for worker in workers { kill(worker.pid, SIGUSR1) }
        logger.notice("SIGUSR1: workers reopen the access log", metadata: ["workers": "\(workers.count)"])
    }
}
