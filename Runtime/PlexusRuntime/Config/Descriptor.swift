import Foundation

/// Plain writes to a file descriptor, for the few places that write bytes themselves rather than
/// through a stream: the access log's writer thread and its recovery by the master, and the JSON
/// log handler on standard error.
enum Descriptor {
    /// Writes all of `bytes` to `fd`, again after a short write or `EINTR`. Returns 0, or the
    /// `errno` of the write that failed (`EAGAIN` from a non-blocking descriptor that is full;
    /// `EIO` when the descriptor took nothing and reported no error).
    @discardableResult
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32 {
        write(fd, bytes).errno
    }

    /// ``writeAll(_:_:)``, also returning how many bytes were written before a failure (a
    /// non-blocking pipe or FIFO can take part of `bytes` and then refuse the rest with `EAGAIN`).
    static func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> (errno: Int32, written: Int) {
        guard let base = bytes.baseAddress else { return (0, 0) }
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(fd, base + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                return (errno, offset)
            }
            if written == 0 { return (EIO, offset) }
            offset += written
        }
        return (0, offset)
    }
}
