import CLibUV

/// A libuv timer that calls a Swift closure on the loop thread.
///
/// The handle lives on the heap; ``close()`` releases it once libuv has finished with it.
final class LoopTimer {
    private let handle: UnsafeMutablePointer<uv_timer_t>
    private var action: (() -> Void)?

    init(loop: EventLoop) {
        handle = .allocate(capacity: 1)
        uv_timer_init(loop.uv, handle)
        handle.pointee.data = Unmanaged.passRetained(self).toOpaque()
    }

    /// Starts (or restarts) the timer.
    func start(afterMilliseconds timeout: UInt64, repeatingMilliseconds repeat: UInt64 = 0, _ action: @escaping () -> Void) {
        self.action = action
        uv_timer_start(handle, { handle in
            Unmanaged<LoopTimer>.fromOpaque(handle!.pointee.data).takeUnretainedValue().action?()
        }, timeout, `repeat`)
    }

    /// Stops the timer; it can be started again.
    func stop() { uv_timer_stop(handle) }

    /// Whether the timer keeps the loop alive.
    func unref() { uv_unref(asHandle) }

    /// Stops and frees the timer; the object must not be used afterwards.
    func close() {
        action = nil
        uv_close(asHandle) { handle in
            let timer = Unmanaged<LoopTimer>.fromOpaque(handle!.pointee.data).takeRetainedValue()
            timer.handle.deallocate()
        }
    }

    private var asHandle: UnsafeMutablePointer<uv_handle_t> {
        UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_handle_t.self)
    }
}
