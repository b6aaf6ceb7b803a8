import CPlexusShims
import Foundation
import Logging
@testable import PlexusRuntime
import XCTest

/// The access log's ring (issue 22): whole records in, the same bytes out in order across the
/// wrap, and what a worker had not written recovered from the shared memfd by another mapping.
final class AccessLogRingTests: XCTestCase {
    func testRecordsComeOutInOrderAcrossTheWrap() throws {
        let ring = try AccessLogRing(capacity: 4096)
        var expected: [UInt8] = [], written: [UInt8] = []
        for round in 0..<50 {
            // Records of varied lengths, drained every few, so the ring wraps many times.
            for index in 0..<5 {
                let line = Array("round \(round) record \(index) \(String(repeating: "y", count: (round * 37 + index * 101) % 700))\n".utf8)
                XCTAssertTrue(line.withUnsafeBytes { ring.append($0) })
                expected += line
            }
            ring.drain { region in
                written += region
                return true
            }
            XCTAssertEqual(ring.unwritten, 0)
        }
        XCTAssertEqual(written, expected)
    }

    func testARecordThatDoesNotFitIsRefusedWhole() throws {
        let ring = try AccessLogRing(capacity: 4096)
        let big = [UInt8](repeating: 0x61, count: 3000) + [0x0A]
        XCTAssertTrue(big.withUnsafeBytes { ring.append($0) })
        XCTAssertFalse(big.withUnsafeBytes { ring.append($0) }, "3001 + 3001 bytes do not fit in 4096")
        XCTAssertEqual(ring.unwrittenRecords, 1)
        let skipped = ring.drain { _ in false }
        XCTAssertEqual(skipped, 1, "bytes the sink refused are skipped and their records counted")
        XCTAssertTrue(big.withUnsafeBytes { ring.append($0) }, "room again once the writer moved on")
    }

    func testAnotherMappingRecoversWhatWasNotWritten() throws {
        let master = try AccessLogRing.shared(capacity: 8192)
        XCTAssertGreaterThanOrEqual(master.descriptor, 0)
        // The worker inherits a copy of the descriptor, as the spawn's dup2 gives it one.
        var worker: AccessLogRing? = try AccessLogRing(attaching: dup(master.descriptor))
        master.closeDescriptor()
        XCTAssertEqual(master.descriptor, -1)
        XCTAssertEqual(worker?.capacity, 8192)
        let first = Array("written 1\n".utf8), rest = Array("pending 2\npending 3\n".utf8)
        XCTAssertTrue(first.withUnsafeBytes { worker!.append($0) })
        worker!.drain { _ in true }  // the worker's writer wrote the first record
        XCTAssertTrue(rest.withUnsafeBytes { worker!.append($0) })
        worker = nil  // the worker is gone (unmapped, as by a crash)
        XCTAssertEqual(master.unwrittenRecords, 2)
        var pipe: [Int32] = [0, 0]
        XCTAssertEqual(Glibc.pipe(&pipe), 0)
        let (bytes, records) = master.recover(into: pipe[1])
        close(pipe[1])
        XCTAssertEqual(records, 2)
        XCTAssertEqual(bytes, rest.count)
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = read(pipe[0], &buffer, buffer.count)
        close(pipe[0])
        XCTAssertEqual(Array(buffer[..<max(count, 0)]), rest, "only what the worker had not written")
        XCTAssertEqual(master.unwritten, 0)
    }

    func testTheMastersRingIsMemoryNotAFile() throws {
        let master = try AccessLogRing.shared(capacity: 4096)
        let target = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(master.descriptor)")
        XCTAssertTrue(target.hasPrefix("/memfd:plexus-access-log"), target)
        XCTAssertNotEqual(fcntl(master.descriptor, F_GETFD) & FD_CLOEXEC, 0, "only the spawn's dup2 passes it on")
        // Its size is sealed: a worker cannot shrink it under the master's mapping (SIGBUS in recovery).
        XCTAssertEqual(plexus_memfd_size_is_sealed(master.descriptor), 1)
        XCTAssertNotEqual(ftruncate(master.descriptor, 0), 0, "shrinking a sealed ring is refused")
        XCTAssertEqual(errno, EPERM)
        XCTAssertNotEqual(ftruncate(master.descriptor, 1 << 20), 0, "growing it too")
    }

    func testAWorkerRefusesADescriptorThatIsNoRing() throws {
        XCTAssertThrowsError(try AccessLogRing(attaching: -1))
        // A file of zeros (no magic) and one shorter than the ring's head.
        for bytes in [8192, 16] {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("not-a-ring-\(UUID().uuidString)").path
            FileManager.default.createFile(atPath: path, contents: Data(count: bytes))
            defer { try? FileManager.default.removeItem(atPath: path) }
            let fd = open(path, O_RDWR)
            XCTAssertGreaterThanOrEqual(fd, 0)
            XCTAssertThrowsError(try AccessLogRing(attaching: fd), "\(bytes) bytes")
        }
    }

    /// Counters a crashed or hostile worker left: a start past the end (Int(head &- tail) trapped),
    /// and an end 2^40 bytes past the start (the record count spun over bytes that are not there).
    /// Recovery writes nothing and the master carries on.
    func testInconsistentCountersRecoverNothing() throws {
        let master = try AccessLogRing.shared(capacity: 4096)
        let line = Array("pending 1\n".utf8)
        XCTAssertTrue(line.withUnsafeBytes { master.append($0) })
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ring-recovery-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let base: UInt64 = 1000
        for (head, tail) in [(base, base + 1), (base + 1 + (1 << 40), base + 1)] {
            master.storeCounters(head: head, tail: tail)
            XCTAssertFalse(master.countersAreValid)
            XCTAssertEqual(master.unwritten, 0)
            XCTAssertEqual(master.unwrittenRecords, 0)
            XCTAssertEqual(master.drain { _ in XCTFail("nothing is handed out"); return true }, 0)
            AccessLogRecovery.recover(master, into: .file(path), worker: 42, logger: Logger(label: "test"))
            let written = (try? Data(contentsOf: URL(fileURLWithPath: path))) ?? Data()
            XCTAssertEqual(written.count, 0, "head \(head), tail \(tail): nothing recovered")
        }
    }

    /// Recovery into a sink that refuses without waiting (a full non-blocking pipe) stops at the
    /// first refusal: it does not skip on to the next region (the ring wrapped, so there are two),
    /// whose line could be glued to a torn one; what is left stays counted as not written.
    func testRecoveryStopsAtTheFirstRefusal() throws {
        let master = try AccessLogRing.shared(capacity: 4096)
        let filler = [UInt8](repeating: 0x66, count: 2999) + [0x0A]
        XCTAssertTrue(filler.withUnsafeBytes { master.append($0) })
        master.drain { _ in true }  // the start is now at 3000: the next records wrap
        let record = [UInt8](repeating: 0x72, count: 999) + [0x0A]
        for _ in 0..<2 { XCTAssertTrue(record.withUnsafeBytes { master.append($0) }) }
        XCTAssertEqual(master.unwritten, 2000)
        var pipe: [Int32] = [0, 0]
        XCTAssertEqual(Glibc.pipe(&pipe), 0)
        defer { close(pipe[0]); close(pipe[1]) }
        XCTAssertEqual(fcntl(pipe[1], F_SETFL, fcntl(pipe[1], F_GETFL) | O_NONBLOCK), 0)
        let chunk = [UInt8](repeating: 0x7A, count: 4096)
        while chunk.withUnsafeBytes({ Glibc.write(pipe[1], $0.baseAddress, $0.count) }) > 0 {}
        XCTAssertEqual(errno, EAGAIN, "the pipe is full")
        let (bytes, records) = master.recover(into: pipe[1])
        XCTAssertEqual(bytes, 0)
        XCTAssertEqual(records, 0)
        XCTAssertEqual(master.unwritten, 2000, "nothing skipped past the refusal")
        XCTAssertEqual(master.unwrittenRecords, 2)
    }

    /// The write helper reports how much a non-blocking pipe took before it refused the rest.
    func testDescriptorWriteReportsAPartialWrite() throws {
        var pipe: [Int32] = [0, 0]
        XCTAssertEqual(Glibc.pipe(&pipe), 0)
        defer { close(pipe[0]); close(pipe[1]) }
        XCTAssertEqual(fcntl(pipe[1], F_SETFL, fcntl(pipe[1], F_GETFL) | O_NONBLOCK), 0)
        let capacity = Int(fcntl(pipe[1], 1032))  // F_GETPIPE_SZ (Linux; not imported into Swift)
        XCTAssertGreaterThan(capacity, 0)
        let bytes = [UInt8](repeating: 0x61, count: capacity + 10_000)
        let (error, written) = bytes.withUnsafeBytes { Descriptor.write(pipe[1], $0) }
        XCTAssertEqual(error, EAGAIN)
        XCTAssertEqual(written, capacity, "the pipe took what it holds, and the count says so")
    }
}
