import CPlexusShims
import Foundation

/// Where the access log's records wait between the loop and the writer thread: a ring of bytes
/// in memory the supervisor shares with its worker (a memfd the master maps and passes to the
/// worker as a descriptor, as it does the connection table), or in anonymous memory without a
/// supervisor. Nothing of it is ever written back to a file: no disk write per record, no
/// access-log lines left behind in the data directory.
///
/// The loop appends each formatted record whole and only then publishes the new end, so the
/// ring holds complete lines only; the writer thread writes from its start and publishes how far
/// it got after each write. When a worker crashes, records it had not written yet are still in
/// the master's mapping, and the master writes them (``recover(into:)``) when it reaps the
/// worker. A record written while the crash hit may be written twice. Lost all the same: records
/// that did not fit (counted), a ring whose counters the crash left inconsistent, and everything
/// without a supervisor (the ring is then anonymous memory).
final class AccessLogRing: @unchecked Sendable {
    static let magic: UInt32 = 0x504C_4152
    /// The descriptor at which a worker finds its master's ring.
    static let workerFD: Int32 = 6
    /// Bytes of records the ring holds at most.
    let capacity: Int
    /// The memfd behind a ring the master made for a worker, until ``closeDescriptor()`` (-1: none).
    var descriptor: Int32 { memory.descriptor }
    private static let head = MemoryLayout<plexus_log_ring>.size
    private let memory: SharedMemory
    private let ring: UnsafeMutablePointer<plexus_log_ring>
    private let data: UnsafeMutableRawPointer

    /// A ring of `capacity` bytes (at least 4096) in anonymous memory: a worker's own, or an
    /// unsupervised runtime's.
    convenience init(capacity: Int) throws {
        try self.init(SharedMemory(anonymous: AccessLogRing.head + max(capacity, 4096), what: "access log ring"), create: true)
    }

    /// The master's ring for a worker about to start: a sealed memfd of `capacity` bytes (at
    /// least 4096), mapped here; ``descriptor`` is what the worker inherits.
    static func shared(capacity: Int) throws -> AccessLogRing {
        try AccessLogRing(SharedMemory.sealed(name: "plexus-access-log", size: head + max(capacity, 4096), what: "access log ring"), create: true)
    }

    /// A worker's view of the ring its master passed at `fd` (closed here, mapped or not); its
    /// size is the descriptor's.
    convenience init(attaching fd: Int32) throws {
        try self.init(SharedMemory.attaching(fd, what: "access log ring", expected: "shorter than its head") { $0 > AccessLogRing.head }, create: false)
    }

    private init(_ memory: SharedMemory, create: Bool) throws {
        self.memory = memory
        capacity = memory.size - Self.head
        ring = memory.base.assumingMemoryBound(to: plexus_log_ring.self)
        data = memory.base + Self.head
        if create {
            ring.pointee.capacity = UInt64(capacity)
            ring.pointee.magic = Self.magic
        } else if ring.pointee.magic != Self.magic || ring.pointee.capacity != UInt64(capacity) {
            throw RuntimeError.config("the master's access log ring was not made by this version of plexus (magic or size differ)")
        }
    }

    /// Closes the master's copy of the memfd (once the worker inherited it, or failed to start);
    /// the mapping stays.
    func closeDescriptor() { memory.closeDescriptor() }

    /// The counters, or nil when they cannot be trusted: the master reads counters a crashed (or
    /// hostile) worker wrote, and a start past the end, or more claimed than the ring holds, would
    /// trap a conversion or spin a loop over bytes that are not there.
    private func validCounters() -> (head: UInt64, tail: UInt64)? {
        let head = plexus_log_ring_load(&ring.pointee.head)
        let tail = plexus_log_ring_load(&ring.pointee.tail)
        guard tail <= head, head - tail <= UInt64(capacity) else { return nil }
        return (head, tail)
    }

    /// Whether the counters are consistent (see ``validCounters()``); when not, nothing is
    /// written from the ring.
    var countersAreValid: Bool { validCounters() != nil }

    /// Bytes the counters claim are waiting, for a report when they are inconsistent (saturating).
    var claimedBytes: UInt64 {
        plexus_log_ring_load(&ring.pointee.head) &- plexus_log_ring_load(&ring.pointee.tail)
    }

    /// Bytes appended and not yet written (0 when the counters are inconsistent).
    var unwritten: Int {
        guard let (head, tail) = validCounters() else { return 0 }
        return Int(head - tail)
    }

    /// Records appended and not yet written (counted by their line ends; for reports, not the
    /// request path; 0 when the counters are inconsistent).
    var unwrittenRecords: Int {
        guard let (head, start) = validCounters() else { return 0 }
        var tail = start, records = 0
        while tail < head {
            if data.load(fromByteOffset: Int(tail % UInt64(capacity)), as: UInt8.self) == 0x0A { records += 1 }
            tail += 1
        }
        return records
    }

    /// Stores both counters as given, for tests that play a crashed or hostile worker.
    func storeCounters(head: UInt64, tail: UInt64) {
        plexus_log_ring_store(&ring.pointee.head, head)
        plexus_log_ring_store(&ring.pointee.tail, tail)
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
    /// sink refused the bytes: they are skipped all the same, and the records among them counted;
    /// with `stopAtRefusal` (the master's recovery) draining stops there instead, the start left
    /// before the refused region. Returns the records skipped.
    @discardableResult
    func drain(stopAtRefusal: Bool = false, _ write: (UnsafeRawBufferPointer) -> Bool) -> Int {
        // The master reads counters a crashed worker wrote: a ring whose start is past its end, or
        // that claims more than it holds, is not trusted (nothing is written from it).
        guard let (head, start) = validCounters() else { return 0 }
        var tail = start
        var skipped = 0
        while tail < head {
            let start = Int(tail % UInt64(capacity))
            let length = min(Int(head - tail), capacity - start)
            let region = UnsafeRawBufferPointer(start: data + start, count: length)
            if !write(region) {
                if stopAtRefusal { break }
                skipped += region.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
            }
            tail += UInt64(length)
            plexus_log_ring_store(&ring.pointee.tail, tail)
        }
        return skipped
    }

    /// The master, after its worker ended: writes what the worker had not written to `fd`.
    /// Returns the bytes and whole records written. It stops at the first write the sink refuses
    /// (a full non-blocking pipe or FIFO); when the sink took part of a record, a line end is
    /// written after it (best effort), so the next line in the shared log starts on its own.
    func recover(into fd: Int32) -> (bytes: Int, records: Int) {
        var bytes = 0, records = 0
        drain(stopAtRefusal: true) { region in
            let (error, written) = Descriptor.write(fd, region)
            bytes += written
            records += UnsafeRawBufferPointer(rebasing: region[..<written]).reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
            if error == 0 { return true }
            if written > 0 && region[written - 1] != 0x0A {
                let lineEnd: UInt8 = 0x0A
                _ = withUnsafeBytes(of: lineEnd) { Descriptor.write(fd, $0) }
            }
            return false
        }
        return (bytes, records)
    }
}
