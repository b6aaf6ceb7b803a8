import CLibUV
import Foundation
import Logging

/// The access log on the loop: formats each answered request into the batch being filled,
/// hands full batches (``AccessLogSettings/flushBytes``) and, every ``AccessLogSettings/flushMilliseconds``,
/// partial ones to an ``AccessLogWriter`` thread, counts what a slow sink made it drop
/// (`plexus_access_log_dropped_total` and a warning), reopens a file sink on SIGUSR1, and
/// writes everything left at ``close()``. Loop thread only.
final class AccessLog {
    let settings: AccessLogSettings
    private let logger: Logger
    private var formatter: AccessLogFormatter
    private let writer: AccessLogWriter
    private var batch: [UInt8] = []
    private var batchRecords = 0
    private var timer: LoopTimer?
    private var reopenSignal: UnsafeMutablePointer<uv_signal_t>?
    private var droppedByLoop = 0
    private var droppedReported = 0
    private var lostCounted = 0
    private var dropCounter: RuntimeCounter?
    private var closed = false

    /// Opens the sink (a file now, so a bad path stops start-up; a FIFO on the writer thread) and
    /// starts the writer, the flush timer and the SIGUSR1 handler. Nil when the log is off.
    init?(settings: AccessLogSettings, loop: EventLoop, logger: Logger) throws {
        let sink: AccessLogWriter.Sink
        var openNow: Int32 = -1
        switch settings.destination {
        case .off:
            return nil
        case .standardError:
            sink = .standardError
        case .file(let path):
            sink = .file(path)
            var status = stat()
            if !(stat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFIFO) {
                openNow = AccessLogWriter.open(path: path)
                guard openNow >= 0 else {
                    throw RuntimeError.config("access_log.path \(path) cannot be opened for appending: \(String(cString: strerror(-openNow))); create its directory or make it writable")
                }
            }
        }
        self.settings = settings
        self.logger = logger
        formatter = AccessLogFormatter(format: settings.format)
        writer = AccessLogWriter(sink: sink, limitBytes: settings.bufferBytes, batchCapacity: settings.flushBytes + 4096, openNow: openNow, logger: logger)
        batch.reserveCapacity(settings.flushBytes + 4096)
        let timer = LoopTimer(loop: loop)
        timer.start(afterMilliseconds: settings.flushMilliseconds, repeatingMilliseconds: settings.flushMilliseconds) { [unowned self] in tick() }
        timer.unref()
        self.timer = timer
        listenForReopen(loop: loop)
    }

    /// Counts drops into `metrics` from now on (the series exists at zero).
    func report(to metrics: RuntimeMetrics) {
        dropCounter = metrics.counter("plexus_access_log_dropped_total", [], help: "")
    }

    /// Formats one answered request into the batch.
    func record(_ record: AccessRecord) {
        guard !closed else { return }
        formatter.append(record, to: &batch)
        batchRecords += 1
        if batch.count >= settings.flushBytes { handOver() }
    }

    /// Hands the batch to the writer (counting its records as dropped when the writer is too far behind).
    private func handOver() {
        guard batchRecords > 0 else { return }
        let records = batchRecords
        batchRecords = 0
        if !writer.submit(&batch, records: records) {
            droppedByLoop += records
            dropCounter?.increment(by: Int64(records))
        }
    }

    private func tick() {
        handOver()
        let lost = writer.lostRecords
        if lost > lostCounted {
            dropCounter?.increment(by: Int64(lost - lostCounted))
            lostCounted = lost
        }
        let dropped = droppedByLoop + lost
        if dropped > droppedReported {
            logger.warning("access log records dropped: the sink does not keep up", metadata: [
                "dropped": "\(dropped - droppedReported)", "dropped_total": "\(dropped)", "buffer_bytes": "\(settings.bufferBytes)",
            ])
            droppedReported = dropped
        }
    }

    /// Reopens a file sink (SIGUSR1): what was logged before goes to the old file, what follows to the new one.
    func reopen() {
        handOver()
        writer.requestReopen()
    }

    /// Writes every record still held and stops the writer (graceful shutdown); waits at most
    /// `timeout` seconds for a slow sink.
    func close(timeout: TimeInterval = 5) {
        guard !closed else { return }
        handOver()
        closed = true
        timer?.close()
        timer = nil
        if let reopenSignal {
            uv_close(UnsafeMutableRawPointer(reopenSignal).assumingMemoryBound(to: uv_handle_t.self)) { $0?.deallocate() }
            self.reopenSignal = nil
        }
        let unwritten = writer.finish(timeout: timeout)
        let dropped = droppedByLoop + unwritten
        if dropped > 0 {
            logger.warning("access log closed; records dropped since start", metadata: ["dropped_total": "\(dropped)"])
        }
    }

    private func listenForReopen(loop: EventLoop) {
        let handle = UnsafeMutablePointer<uv_signal_t>.allocate(capacity: 1)
        uv_signal_init(loop.uv, handle)
        handle.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        uv_signal_start(handle, { handle, _ in
            Unmanaged<AccessLog>.fromOpaque(handle!.pointee.data).takeUnretainedValue().reopen()
        }, SIGUSR1)
        uv_unref(UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_handle_t.self))
        reopenSignal = handle
        // A supervised worker starts with SIGUSR1 blocked (its master forwards it): take it from here on.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGUSR1)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }
}
