import CLibUV
import Foundation

/// The event loop that storage calls come from, as `LoopStorage` needs it: the libuv loop (for
/// watching a PostgreSQL socket), a test for "this thread owns the loop", and a way to run a
/// closure on the loop from any thread (to hand back results of work done on engine workers).
///
/// The runtime builds one from its own `EventLoop`; benchmarks and tests use `StorageLoopThread`.
public final class StorageLoop: @unchecked Sendable {
    /// The libuv loop; touched only on its owner thread.
    public let uv: UnsafeMutablePointer<uv_loop_t>
    private let isCurrentCheck: @Sendable () -> Bool
    private let postBody: @Sendable (@escaping @Sendable () -> Void) -> Void

    /// - Parameters:
    ///   - uv: the loop's libuv handle.
    ///   - isCurrent: whether the calling thread is the loop's owner thread.
    ///   - post: runs a closure on the loop thread later (callable from any thread).
    public init(
        uv: UnsafeMutablePointer<uv_loop_t>, isCurrent: @escaping @Sendable () -> Bool,
        post: @escaping @Sendable (@escaping @Sendable () -> Void) -> Void
    ) {
        self.uv = uv
        self.isCurrentCheck = isCurrent
        self.postBody = post
    }

    /// Whether the calling thread owns the loop.
    public var isCurrent: Bool { isCurrentCheck() }

    /// Runs `body` on the loop thread, later.
    public func post(_ body: @escaping @Sendable () -> Void) { postBody(body) }

    /// A closure callable from any thread that runs `body` with its argument on the loop.
    func bounce<T>(_ body: @escaping (T) -> Void) -> @Sendable (T) -> Void {
        let callback = LoopConfined(body)
        return { [self] value in
            let argument = LoopConfined(value)
            post { callback.value(argument.value) }
        }
    }
}

/// A value handed to the loop thread by a thread that gives it up (hence unchecked).
struct LoopConfined<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// A libuv loop running on a thread of its own, for benchmarks and tests that have no runtime:
/// `run` posts work onto it, `stop` ends the thread.
public final class StorageLoopThread: @unchecked Sendable {
    /// The loop, as storage sees it.
    public private(set) var loop: StorageLoop!
    private let uv: UnsafeMutablePointer<uv_loop_t>
    private let wakeup: UnsafeMutablePointer<uv_async_t>
    private let lock = NSLock()
    private var queue: [@Sendable () -> Void] = []
    private var stopping = false
    private var owner: pthread_t?
    private let finished = DispatchSemaphore(value: 0)

    /// Starts the loop's thread.
    public init() {
        uv = .allocate(capacity: 1)
        uv_loop_init(uv)
        wakeup = .allocate(capacity: 1)
        uv_async_init(uv, wakeup) { handle in
            Unmanaged<StorageLoopThread>.fromOpaque(handle!.pointee.data).takeUnretainedValue().drain()
        }
        wakeup.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        loop = StorageLoop(
            uv: uv, isCurrent: { [unowned self] in currentIsOwner },
            post: { [unowned self] body in enqueue(body) })
        let started = DispatchSemaphore(value: 0)
        let thread = Thread { [self] in
            lock.lock()
            owner = pthread_self()
            lock.unlock()
            started.signal()
            uv_run(uv, UV_RUN_DEFAULT)
            finished.signal()
        }
        thread.stackSize = 8 << 20
        thread.start()
        started.wait()
    }

    private var currentIsOwner: Bool {
        lock.lock()
        defer { lock.unlock() }
        guard let owner else { return false }
        return pthread_equal(owner, pthread_self()) != 0
    }

    private func enqueue(_ body: @escaping @Sendable () -> Void) {
        lock.lock()
        queue.append(body)
        lock.unlock()
        uv_async_send(wakeup)
    }

    private func drain() {
        while true {
            lock.lock()
            let batch = queue
            queue = []
            let stop = stopping && batch.isEmpty
            lock.unlock()
            if stop {
                uv_close(UnsafeMutableRawPointer(wakeup).assumingMemoryBound(to: uv_handle_t.self), nil)
                uv_stop(uv)
                return
            }
            if batch.isEmpty { return }
            for body in batch { body() }
        }
    }

    /// Runs `body` on the loop thread and waits for it to return (not for what it starts).
    public func sync<T>(_ body: @escaping () -> T) -> T {
        let done = DispatchSemaphore(value: 0)
        let box = ResultBox<T>()
        let work = LoopConfined(body)
        enqueue {
            box.value = work.value()
            done.signal()
        }
        done.wait()
        return box.value!
    }

    /// Runs `body` on the loop thread; it calls its argument (on the loop) when its work is done.
    /// Returns once that happened.
    public func wait(_ body: @escaping (_ done: @escaping () -> Void) -> Void) {
        let done = DispatchSemaphore(value: 0)
        let work = LoopConfined(body)
        enqueue { work.value { done.signal() } }
        done.wait()
    }

    /// Stops the loop after the work already posted and waits for its thread to end.
    public func stop() {
        lock.lock()
        stopping = true
        lock.unlock()
        uv_async_send(wakeup)
        finished.wait()
        // Handles closed by users (polls, timers) finish closing here.
        uv_run(uv, UV_RUN_NOWAIT)
        uv_loop_close(uv)
    }
}

private final class ResultBox<T>: @unchecked Sendable {
    var value: T?
}
