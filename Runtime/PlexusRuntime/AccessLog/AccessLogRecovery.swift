import Foundation
import Logging

/// The master's side of ``AccessLogRing``: once a worker has ended, the records it appended and
/// had not written (it crashed, or was killed) are written to the access log's destination.
enum AccessLogRecovery {
    /// Writes what `ring` still holds to `destination`; logs how many records were recovered.
    static func recover(_ ring: AccessLogRing, into destination: AccessLogSettings.Destination, worker: pid_t, logger: Logger) {
        guard ring.countersAreValid else {
            logger.error("access log: ring counters of worker \(worker) inconsistent, \(ring.claimedBytes) bytes claimed, nothing recovered")
            return
        }
        guard ring.unwritten > 0 else { return }
        let fd: Int32
        switch destination {
        case .off:
            return
        case .standardError:
            fd = STDERR_FILENO
        case .file(let path):
            // Never blocking: the master's loop must not wait for a FIFO's reader or a full pipe.
            fd = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0o644)
            guard fd >= 0 else {
                logger.error("access log: \(ring.unwrittenRecords) record(s) of worker \(worker) not written: cannot open \(path): \(String(cString: strerror(errno)))")
                return
            }
        }
        defer { if fd != STDERR_FILENO { close(fd) } }
        let left = ring.unwrittenRecords
        let (bytes, records) = ring.recover(into: fd)
        if records < left {
            logger.error("access log: \(left - records) record(s) of worker \(worker) not written: the sink did not take them without waiting")
        }
        logger.warning("access log: wrote \(records) record(s) (\(bytes) bytes) worker \(worker) had not written when it ended",
                       metadata: ["worker": "\(worker)", "records": "\(records)"])
    }
}
