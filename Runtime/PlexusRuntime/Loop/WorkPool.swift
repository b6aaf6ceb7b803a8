import CLibUV

/// Runs work on libuv's thread pool and completes it back on the loop thread.
enum WorkPool {
    /// Queues `work` on the pool; `after` runs on the loop thread with `true` if the work ran.
    static func submit(on loop: EventLoop, work: @escaping @Sendable () -> Void, after: @escaping (Bool) -> Void) -> Bool {
        let request = UnsafeMutablePointer<uv_work_t>.allocate(capacity: 1)
        request.pointee.data = Unmanaged.passRetained(WorkItem(work: work, after: after)).toOpaque()
        let status = uv_queue_work(loop.uv, request, { request in
            Unmanaged<WorkItem>.fromOpaque(request!.pointee.data).takeUnretainedValue().work()
        }, { request, status in
            let item = Unmanaged<WorkItem>.fromOpaque(request!.pointee.data).takeRetainedValue()
            request!.deallocate()
            item.after(status == 0)
        })
        if status != 0 {
            Unmanaged<WorkItem>.fromOpaque(request.pointee.data).release()
            request.deallocate()
            return false
        }
        return true
    }
}

private final class WorkItem: @unchecked Sendable {
    let work: @Sendable () -> Void
    let after: (Bool) -> Void
    init(work: @escaping @Sendable () -> Void, after: @escaping (Bool) -> Void) {
        self.work = work
        self.after = after
    }
}
