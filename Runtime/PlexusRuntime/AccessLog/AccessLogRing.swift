import CPlexusShims
import Foundation

/// Where the access log's records wait between the loop and the writer thread: a ring of bytes
/// in memory the supervisor shares with its worker (an mmap'd file beside the worker's record,
/// `supervisor.<n>.accesslog`), or in anonymous memory without a supervisor.
///
/// The loop appends each formatted record whole and only then publishes the new end, so the
/// ring holds complete lines only; the writer thread writes from its start and publishes how far
/// it got after each write. When a worker crashes, records it had not written yet are still in
/// the file, and the master writes them (``recover(into:)``): a crash loses no answered request's
/// record. A record written while the crash hit may be written twice (at least once, never lost).
final class AccessLogRing: @unchecked Sendable {
    static let magic: UInt32 = 0x504C_4152
    /// The file behind the ring (nil: anonymous memory).
    let path: String?
    /// Bytes of records the ring holds at most.
    let capacity: Int
    private let ring: UnsafeMutablePointer<plexus_log_ring>
    private let data: UnsafeMutableRawPointer
    private let size: Int

    /// The ring of the worker whose shared record is at `recordPath` (`supervisor.<n>.record`).
    static func path(forRecord recordPath: String) -> String {
        (recordPath.hasSuffix(".record") ? String(recordPath.dropLast(".record".count)) : recordPath) + ".accesslog"
    }

    /// Creates (the master, or with `path` nil the worker itself) or attaches to (a worker) the ring.
    /// `capacity` is the ring's size when it is created; attaching takes the size the file has.
    init(path: String?, capacity: Int, create: Bool) throws {
        self.path = path
        let head = MemoryLayout<plexus_log_ring>.size
        var fd: Int32 = -1
        var capacity = max(capacity, 4096)
        if let path {
            fd = open(path, create ? (O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC) : (O_RDWR | O_CLOEXEC), 0o600)
            guard fd >= 0 else { throw RuntimeError.config("access log ring \(path) cannot be opened: \(String(cString: strerror(errno)))") }
            if create {
                guard ftruncate(fd, off_t(head + capacity)) == 0 else {
                    close(fd)
                    throw RuntimeError.config("access log ring \(path): ftruncate failed: \(String(cString: strerror(errno)))")
                }
            } else {
                var status = stat()
                guard fstat(fd, &status) == 0, Int(status.st_size) > head else {
                    close(fd)
                    throw RuntimeError.config("access log ring \(path) is shorter than its head")
                }
                capacity = Int(status.st_size) - head
            }
        }
        defer { if fd >= 0 { close(fd) } }
        size = head + capacity
        let flags = path == nil ? (MAP_SHARED | MAP_ANONYMOUS) : MAP_SHARED
        guard let memory = mmap(nil, size, PROT_READ | PROT_WRITE, flags, fd, 0), memory != MAP_FAILED else {
            throw RuntimeError.config("access log ring \(path ?? "(anonymous)") cannot be mapped: \(String(cString: strerror(errno)))")
        }
        ring = memory.assumingMemoryBound(to: plexus_log_ring.self)
        data = memory + head
        if create {
            ring.pointee.capacity = UInt64(capacity)
            ring.pointee.magic = Self.magic
        } else if ring.pointee.magic != Self.magic || ring.pointee.capacity != UInt64(capacity) {
            munmap(memory, size)
            throw RuntimeError.config("access log ring \(path ?? "-") was not written by this version of plexus (magic or size differ)")
        }
        self.capacity = capacity
    }

    deinit { munmap(ring, size) }

    /// Removes the file (the master, once the worker's ring is empty or recovered).
    func unlink() {
        if let path { Glibc.unlink(path) }
    }

    /// Bytes appended and not yet written.
    var unwritten: Int {
        Int(plexus_log_ring_load(&ring.pointee.head) &- plexus_log_ring_load(&ring.pointee.tail))
    }

    /// Records appended and not yet written (counted by their line ends; for reports, not the request path).
    var unwrittenRecords: Int {
        let head = plexus_log_ring_load(&ring.pointee.head)
        var tail = plexus_log_ring_load(&ring.pointee.tail)
        var records = 0
        while tail < head {
            if data.load(fromByteOffset: Int(tail % UInt64(capacity)), as: UInt8.self) == 0x0A { records += 1 }
            tail += 1
        }
        return records
    }

    /// Bytes appended since start (the loop's own count).
    var appended: UInt64 { ring.pointee.head }

    /// Appends one whole record (loop thread only); false when it does not fit beside what waits
    /// for the writer (the sink is too far behind): the record is dropped.
    func append(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return true }
        let head = ring.pointee.head
        let tail = plexus_log_ring_load(&ring.pointee.tail)
        guard Int(head &- tail) + bytes.count <= capacity else { return false }
        let start = Int(head % UInt64(capacity))
        let first = min(bytes.count, capacity - start)
        (data + start).copyMemory(from: source, byteCount: first)
        if first < bytes.count { data.copyMemory(from: source + first, byteCount: bytes.count - first) }
        plexus_log_ring_store(&ring.pointee.head, head &+ UInt64(bytes.count))
        return true
    }

    /// Hands what waits to `write` (the writer thread only; at most two regions, the ring wraps),
    /// moving the start past each region once `write` returns. `write` returns false when the
    /// sink refused the bytes: they are skipped all the same, and the records among them counted.
    /// Returns the records skipped.
    @discardableResult
    func drain(_ write: (UnsafeRawBufferPointer) -> Bool) -> Int {
        let head = plexus_log_ring_load(&ring.pointee.head)
        var tail = ring.pointee.tail
        var skipped = 0
        while tail < head {
            let start = Int(tail % UInt64(capacity))
            let length = min(Int(head - tail), capacity - start)
            let region = UnsafeRawBufferPointer(start: data + start, count: length)
            if !write(region) { skipped += region.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) } }
            tail += UInt64(length)
            plexus_log_ring_store(&ring.pointee.tail, tail)
        }
        return skipped
    }

    /// The master, after its worker ended: writes what the worker had not written to `fd`.
    /// Returns the bytes and records written.
    func recover(into fd: Int32) -> (bytes: Int, records: Int) {
        var bytes = 0, records = 0
        drain { region in
            var offset = 0
            while offset < region.count {
                let written = Glibc.write(fd, region.baseAddress! + offset, region.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += written
            }
            bytes += region.count
            records += region.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
            return true
        }
        return (bytes, records)
    }
}
