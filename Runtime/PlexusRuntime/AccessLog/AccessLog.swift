import CLibUV
import Foundation
import Logging

/// The access log on the loop: formats each answered request and appends it to an
/// ``AccessLogRing`` (shared with a supervisor, which writes what a crashed worker had not), wakes the
/// ``AccessLogWriter`` thread every ``AccessLogSettings/flushBytes`` and every
/// ``AccessLogSettings/flushMilliseconds``, counts what a slow sink made it drop
/// (`plexus_access_log_dropped_total` and a warning), reopens a file sink on SIGUSR1, and
/// writes everything left at ``close()``. Loop thread only.
final class AccessLog {
    let settings: AccessLogSettings
    private let logger: Logger
    private let formatter: AccessLogFormatter
    private let writer: AccessLogWriter
    /// The ring's end when the writer was last woken.
    private var wokenAt: UInt64 = 0
    private let wakeBytes: UInt64
    private var timer: LoopTimer?
    private var reopenSignal: UnsafeMutablePointer<uv_signal_t>?
    private var droppedByLoop = 0
    private var droppedReported = 0
    private var lostCounted = 0
    private var dropCounter: RuntimeCounter?
    private var closed = false
    /// Wall-clock time from the monotonic clock the request path reads anyway.
    private var clock = WallClockFromMonotonic()

    /// Opens the sink (a file now, so a bad path stops start-up; a FIFO on the writer thread) and
    /// starts the writer, the flush timer and the SIGUSR1 handler. Nil when the log is off.
    /// `ring`: the one the supervisor shares with this worker; without one, a ring of
    /// ``AccessLogSettings/bufferBytes`` in anonymous memory.
    init?(settings: AccessLogSettings, loop: EventLoop, logger: Logger, ring: AccessLogRing? = nil) throws {
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
        let ring = try ring ?? AccessLogRing(capacity: settings.bufferBytes)
        writer = AccessLogWriter(sink: sink, ring: ring, openNow: openNow, logger: logger)
        wakeBytes = UInt64(max(1, min(settings.flushBytes, ring.capacity / 2)))
        wokenAt = ring.appended
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

    /// Formats `request`'s record (answered with `bytes` after `microseconds`, at `hrtime`:
    /// `uv_hrtime()` nanoseconds) and appends it to the ring.
    func record(_ request: RequestContext, bytes: Int, microseconds: UInt64, at hrtime: UInt64) {
        record(AccessRecord(request, bytes: bytes, microseconds: microseconds, time: clock.wallTime(at: hrtime), format: settings.format))
    }

    /// Formats one answered request and appends it to the ring (dropped and counted when the
    /// ring is full: the sink is too far behind).
    func record(_ record: AccessRecord) {
        guard !closed else { return }
        guard writer.ring.append(formatter.format(record)) else {
            droppedByLoop += 1
            dropCounter?.increment(by: Int64(1))
            return
        }
        if writer.ring.appended &- wokenAt >= wakeBytes { handOver() }
    }

    /// Wakes the writer when records were appended since it was last woken.
    private func handOver() {
        let appended = writer.ring.appended
        guard appended != wokenAt else { return }
        wokenAt = appended
        writer.wake()
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
