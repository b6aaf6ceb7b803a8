import Foundation
import Logging

/// The thread that writes the access log's records to their sink, so the loop never waits on a
/// disk or a pipe. The loop appends whole records to an ``AccessLogRing`` and wakes the thread
/// (``wake()``) once enough wait; the thread writes everything the ring holds and moves the
/// ring's start past it. A record that does not fit in the ring beside those waiting is the
/// loop's to drop and count. A file sink is opened on the thread (a FIFO with no reader blocks
/// only the thread) and reopened after ``requestReopen()``.
final class AccessLogWriter: @unchecked Sendable {
    /// Where the bytes go.
    enum Sink: Equatable {
        case standardError
        case file(String)
    }

    let sink: Sink
    let ring: AccessLogRing
    private let logger: Logger
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var wakeRequested = false
    private var reopenRequested = false
    private var stopping = false
    private var finished = false
    private var lost = 0
    // Writer thread only.
    private var fd: Int32 = -1
    private var reportedOpenFailure = false

    /// `openNow`: a descriptor already opened for a file sink (so start-up reports a bad path), or -1.
    init(sink: Sink, ring: AccessLogRing, openNow: Int32 = -1, logger: Logger) {
        self.sink = sink
        self.ring = ring
        self.logger = logger
        fd = sink == .standardError ? STDERR_FILENO : openNow
        let thread = Thread { [self] in run() }
        thread.name = "plexus-access-log"
        thread.start()
    }

    /// Opens a file sink for appending (creating it, mode 0644); returns the descriptor, or `-errno`.
    static func open(path: String) -> Int32 {
        let fd = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        return fd >= 0 ? fd : -errno
    }

    /// Asks the thread to write what the ring holds.
    func wake() {
        condition.lock()
        wakeRequested = true
        condition.signal()
        condition.unlock()
    }

    /// Closes and reopens a file sink once the records appended so far are written (logrotate).
    func requestReopen() {
        condition.lock()
        reopenRequested = true
        condition.signal()
        condition.unlock()
    }

    /// Records appended that could not be written (the sink failed), since the start.
    var lostRecords: Int {
        condition.lock()
        defer { condition.unlock() }
        return lost
    }

    /// Writes what the ring holds and stops the thread (nothing is appended any more); waits at
    /// most `timeout` seconds. Returns the records not written (the sink failed or did not take
    /// them in time; those still in a supervised worker's ring are the master's to write).
    func finish(timeout: TimeInterval) -> Int {
        condition.lock()
        defer { condition.unlock() }
        stopping = true
        condition.broadcast()
        let deadline = Date(timeIntervalSinceNow: timeout)
        while !finished && condition.wait(until: deadline) {}
        return lost + (finished ? 0 : ring.unwrittenRecords)
    }

    private func run() {
        while true {
            condition.lock()
            while !wakeRequested && !reopenRequested && !stopping { condition.wait() }
            let stop = stopping
            let reopen = reopenRequested
            wakeRequested = false
            reopenRequested = false
            condition.unlock()

            let failed = ring.drain { write($0) }
            if reopen { reopenFile() }

            condition.lock()
            lost += failed
            if stop && ring.unwritten == 0 {
                finished = true
                condition.broadcast()
                condition.unlock()
                break
            }
            condition.unlock()
        }
        if case .file = sink, fd >= 0 { close(fd) }
    }

    /// Writes all of `bytes`; false when the sink cannot be opened or refuses them.
    private func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if fd < 0 { reopenFile() }
        guard fd >= 0 else { return false }
        let error = Descriptor.writeAll(fd, bytes)
        if error != 0 {
            logger.error("access log: cannot write to \(describe): \(String(cString: strerror(error))); records are dropped until it works")
        }
        return error == 0
    }

    private func reopenFile() {
        guard case .file(let path) = sink else { return }
        if fd >= 0 { close(fd) }
        fd = -1
        let opened = Self.open(path: path)
        if opened >= 0 {
            fd = opened
            reportedOpenFailure = false
        } else if !reportedOpenFailure {
            logger.error("access log: cannot open \(path): \(String(cString: strerror(-opened))); check the directory exists and is writable, then send SIGUSR1")
            reportedOpenFailure = true
        }
    }

    private var describe: String {
        switch sink {
        case .standardError: "standard error"
        case .file(let path): path
        }
    }
}
