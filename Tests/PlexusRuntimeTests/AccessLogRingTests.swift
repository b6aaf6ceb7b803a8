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
}
