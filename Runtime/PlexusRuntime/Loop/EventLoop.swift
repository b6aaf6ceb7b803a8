import CLibUV
import Foundation

/// The runtime's libuv loop and its owner thread.
///
/// Everything that touches plugins, connections or routes runs on the thread that calls
/// ``run()``. Other threads reach it only through ``execute(_:)`` / ``post(_:_:)``, which queue
/// work under a lock and wake the loop with one `uv_async_t` (libuv coalesces wake-ups, so the
/// queue carries the data).
public final class EventLoop: @unchecked Sendable {
    /// The underlying libuv loop.
    public let uv: UnsafeMutablePointer<uv_loop_t>
    private let wakeup: UnsafeMutablePointer<uv_async_t>
    private let lock = NSLock()
    private var pending: [Posted] = []
    private var spare: [Posted] = []
    private(set) var ownerThread: pthread_t?

    private enum Posted {
        case c(@convention(c) (UnsafeMutableRawPointer?) -> Void, UnsafeMutableRawPointer?)
        case swift(() -> Void)
    }

    /// Creates a loop with its own `uv_loop_t`.
    public init() {
        uv = .allocate(capacity: 1)
        uv_loop_init(uv)
        wakeup = .allocate(capacity: 1)
        uv_async_init(uv, wakeup) { handle in
            Unmanaged<EventLoop>.fromOpaque(handle!.pointee.data).takeUnretainedValue().drain()
        }
        // The wake-up handle keeps the loop alive until `stop()`: posts can arrive from any thread at any time.
        wakeup.pointee.data = Unmanaged.passUnretained(self).toOpaque()
    }

    /// Runs the loop on the calling thread until ``stop()``.
    public func run() {
        ownerThread = pthread_self()
        uv_run(uv, UV_RUN_DEFAULT)
    }

    /// Whether the caller is on the loop's owner thread.
    public var inLoopThread: Bool {
        guard let ownerThread else { return false }
        return pthread_equal(ownerThread, pthread_self()) != 0
    }

    /// Stops ``run()`` after the current iteration. Loop thread only.
    public func stop() { uv_stop(uv) }

    /// Queues a Swift closure onto the loop. Safe from any thread.
    public func execute(_ body: @escaping () -> Void) {
        enqueue(.swift(body))
    }

    /// Queues a C callback onto the loop. Safe from any thread.
    func post(_ callback: @escaping @convention(c) (UnsafeMutableRawPointer?) -> Void, _ user: UnsafeMutableRawPointer?) {
        enqueue(.c(callback, user))
    }

    private func enqueue(_ item: Posted) {
        lock.lock()
        pending.append(item)
        let first = pending.count == 1
        lock.unlock()
        if first { uv_async_send(wakeup) }
    }

    private func drain() {
        while true {
            lock.lock()
            if pending.isEmpty { lock.unlock(); return }
            swap(&pending, &spare)
            lock.unlock()
            for item in spare {
                switch item {
                case let .c(callback, user): callback(user)
                case let .swift(body): body()
                }
            }
            spare.removeAll(keepingCapacity: true)
        }
    }

    /// Closes every handle still open (the wake-up one included) and runs the loop until they
    /// have all closed. Handles of objects that outlive the loop are simply abandoned at exit.
    public func close() {
        uv_walk(uv, { handle, _ in
            if let handle, uv_is_closing(handle) == 0 { uv_close(handle, nil) }
        }, nil)
        uv_run(uv, UV_RUN_DEFAULT)
        uv_loop_close(uv)
    }

    /// Milliseconds of the loop's cached clock.
    public var now: UInt64 { uv_now(uv) }
}
