import CLibUV

/// Watches a descriptor for readability on the loop and calls a Swift closure (libuv `uv_poll_t`).
///
/// The descriptor stays the caller's to close; ``close()`` releases the handle once libuv has
/// finished with it.
final class LoopPoll {
    private let handle: UnsafeMutablePointer<uv_poll_t>
    private var action: (() -> Void)?

    /// Starts watching `fd`; nil when libuv refuses it.
    init?(loop: EventLoop, fd: Int32, _ action: @escaping () -> Void) {
        handle = .allocate(capacity: 1)
        guard uv_poll_init(loop.uv, handle, fd) == 0 else {
            handle.deallocate()
            return nil
        }
        self.action = action
        handle.pointee.data = Unmanaged.passRetained(self).toOpaque()
        uv_poll_start(handle, Int32(UV_READABLE.rawValue)) { handle, _, _ in
            Unmanaged<LoopPoll>.fromOpaque(handle!.pointee.data).takeUnretainedValue().action?()
        }
    }

    /// Whether the watch keeps the loop alive.
    func unref() { uv_unref(asHandle) }

    /// Stops watching and frees the handle; the object must not be used afterwards.
    func close() {
        action = nil
        uv_poll_stop(handle)
        uv_close(asHandle) { handle in
            let poll = Unmanaged<LoopPoll>.fromOpaque(handle!.pointee.data).takeRetainedValue()
            poll.handle.deallocate()
        }
    }

    private var asHandle: UnsafeMutablePointer<uv_handle_t> {
        UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_handle_t.self)
    }
}
