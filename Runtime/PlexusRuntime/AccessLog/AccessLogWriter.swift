import Foundation
import Logging

/// The thread that writes access log batches to their sink, so the loop never waits on a disk
/// or a pipe. The loop hands over whole batches (``submit(_:records:)``); at most
/// `limitBytes` wait or are being written, and a batch beyond that is refused so the loop can
/// count it as dropped. A file sink is opened on the thread (a FIFO with no reader blocks only
/// the thread) and reopened after ``requestReopen()``.
final class AccessLogWriter: @unchecked Sendable {
    /// Where the bytes go.
    enum Sink: Equatable {
        case standardError
        case file(String)
    }

    private struct Batch {
        var bytes: [UInt8]
        var records: Int
    }

    let sink: Sink
    private let limitBytes: Int
    private let batchCapacity: Int
    private let logger: Logger
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var pending: [Batch] = []
    private var heldBytes = 0
    private var heldRecords = 0
    private var spare: [[UInt8]] = []
    private var reopenRequested = false
    private var stopping = false
    private var finished = false
    private var lost = 0
    // Writer thread only.
    private var fd: Int32 = -1
    private var reportedOpenFailure = false

    /// `openNow`: a descriptor already opened for a file sink (so start-up reports a bad path), or -1.
    init(sink: Sink, limitBytes: Int, batchCapacity: Int, openNow: Int32 = -1, logger: Logger) {
        self.sink = sink
        self.limitBytes = limitBytes
        self.batchCapacity = batchCapacity
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

    /// Hands `batch` (holding `records` records) to the thread and gives back an empty buffer in
    /// its place; false when the sink is too far behind (the batch is emptied, not written).
    func submit(_ batch: inout [UInt8], records: Int) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !stopping, heldBytes + batch.count <= limitBytes else {
            batch.removeAll(keepingCapacity: true)
            return false
        }
        var replacement = spare.popLast() ?? []
        if replacement.capacity == 0 { replacement.reserveCapacity(batchCapacity) }
        swap(&batch, &replacement)
        pending.append(Batch(bytes: replacement, records: records))
        heldBytes += replacement.count
        heldRecords += records
        condition.signal()
        return true
    }

    /// Closes and reopens a file sink once the batches handed over so far are written (logrotate).
    func requestReopen() {
        condition.lock()
        reopenRequested = true
        condition.signal()
        condition.unlock()
    }

    /// Records handed over that could not be written (the sink failed), since the start.
    var lostRecords: Int {
        condition.lock()
        defer { condition.unlock() }
        return lost
    }

    /// Writes what was handed over and stops the thread; waits at most `timeout` seconds.
    /// Returns the records not written (the sink failed or did not take them in time).
    func finish(timeout: TimeInterval) -> Int {
        condition.lock()
        defer { condition.unlock() }
        stopping = true
        condition.broadcast()
        let deadline = Date(timeIntervalSinceNow: timeout)
        while !finished && condition.wait(until: deadline) {}
        return lost + (finished ? 0 : heldRecords)
    }

    private func run() {
        while true {
            condition.lock()
            while pending.isEmpty && !reopenRequested && !stopping { condition.wait() }
            if pending.isEmpty && !reopenRequested && stopping {
                finished = true
                condition.broadcast()
                condition.unlock()
                break
            }
            let batches = pending
            pending.removeAll(keepingCapacity: true)
            let reopen = reopenRequested
            reopenRequested = false
            condition.unlock()

            var failed = 0
            for batch in batches where !write(batch.bytes) { failed += batch.records }
            if reopen { reopenFile() }

            condition.lock()
            lost += failed
            for var batch in batches {
                heldBytes -= batch.bytes.count
                heldRecords -= batch.records
                batch.bytes.removeAll(keepingCapacity: true)
                if spare.count < 4 { spare.append(batch.bytes) }
            }
            condition.unlock()
        }
        if case .file = sink, fd >= 0 { close(fd) }
    }

    /// Writes all of `bytes`; false when the sink cannot be opened or refuses them.
    private func write(_ bytes: [UInt8]) -> Bool {
        if fd < 0 { reopenFile() }
        guard fd >= 0 else { return false }
        return bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    logger.error("access log: cannot write to \(describe): \(String(cString: strerror(errno))); records are dropped until it works")
                    return false
                }
                offset += written
            }
            return true
        }
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
