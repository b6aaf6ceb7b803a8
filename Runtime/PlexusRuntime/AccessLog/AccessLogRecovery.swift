import Foundation
import Logging

/// The master's side of ``AccessLogRing``: once a worker has ended, the records it appended and
/// had not written (it crashed, or was killed) are written to the access log's destination.
enum AccessLogRecovery {
    /// Writes what `ring` still holds to `destination`; logs how many records were recovered.
    static func recover(_ ring: AccessLogRing, into destination: AccessLogSettings.Destination, worker: pid_t, logger: Logger) {
        guard ring.unwritten > 0 else { return }
        let fd: Int32
        switch destination {
        case .off:
            return
        case .standardError:
            fd = STDERR_FILENO
        case .file(let path):
            fd = AccessLogWriter.open(path: path)
            guard fd >= 0 else {
                logger.error("access log: \(ring.unwrittenRecords) record(s) of worker \(worker) not written: cannot open \(path): \(String(cString: strerror(-fd)))")
                return
            }
        }
        defer { if fd != STDERR_FILENO { close(fd) } }
        let (bytes, records) = ring.recover(into: fd)
        logger.warning("access log: wrote \(records) record(s) (\(bytes) bytes) worker \(worker) had not written when it ended",
                       metadata: ["worker": "\(worker)", "records": "\(records)"])
    }
}
