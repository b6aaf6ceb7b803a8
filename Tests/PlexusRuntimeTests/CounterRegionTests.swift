import CPlexusShims
import Foundation
@testable import PlexusRuntime
import XCTest

/// The supervisor's counter region (issue 22): a sealed memfd the master maps and passes to its
/// worker, which checks what it was given; what a crashed or hostile worker left there cannot
/// make the master fault or carry counts no counter can hold.
final class CounterRegionTests: XCTestCase {
    func testTheMastersRegionIsASealedMemfdNotAFile() throws {
        let master = try CounterRegion.shared()
        let target = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(master.descriptor)")
        XCTAssertTrue(target.hasPrefix("/memfd:plexus-counters"), target)
        XCTAssertNotEqual(fcntl(master.descriptor, F_GETFD) & FD_CLOEXEC, 0, "only the spawn's dup2 passes it on")
        XCTAssertEqual(plexus_memfd_size_is_sealed(master.descriptor), 1)
        XCTAssertNotEqual(ftruncate(master.descriptor, 0), 0, "shrinking a sealed region is refused")
        XCTAssertEqual(errno, EPERM)
        XCTAssertNotEqual(ftruncate(master.descriptor, off_t(CounterRegion.size * 2)), 0, "growing it too")
        XCTAssertEqual(errno, EPERM)
        master.closeDescriptor()
        XCTAssertEqual(master.descriptor, -1)
    }

    /// Another process holding the region at descriptor 7, as a worker does, cannot resize it:
    /// the master's mapping stays whole (no SIGBUS when it reads the slots).
    func testAnotherProcessCannotResizeTheRegion() throws {
        let master = try CounterRegion.shared()
        let slot = try XCTUnwrap(master.claim("plexus_test_total"))
        plexus_counter_add(slot, 3)
        for size in ["0", "1G"] {
            let arguments = ["truncate", "-s", size, "/proc/self/fd/\(CounterRegion.workerFD)"]
            var cArguments: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
            defer { for pointer in cArguments { free(pointer) } }
            let pid = plexus_spawn_with_fds("/usr/bin/truncate", &cArguments, [master.descriptor], [CounterRegion.workerFD], 1)
            XCTAssertGreaterThan(pid, 0, "spawn: \(String(cString: strerror(-pid)))")
            var status: Int32 = 0
            XCTAssertEqual(waitpid(pid, &status, 0), pid)
            XCTAssertNotEqual(status, 0, "truncate -s \(size) of the inherited region fails")
            var info = stat()
            XCTAssertEqual(fstat(master.descriptor, &info), 0)
            XCTAssertEqual(Int(info.st_size), CounterRegion.size, "size \(size): the region keeps its size")
        }
        XCTAssertEqual(master.series.map(\.value), [3])
    }

    /// A worker counts through its own mapping, then is gone (unmapped, as by a crash): the master
    /// still reads every count.
    func testTheMasterReadsWhatAWorkerThatIsGoneCounted() throws {
        let master = try CounterRegion.shared()
        var worker: CounterRegion? = try CounterRegion(attaching: dup(master.descriptor))
        plexus_counter_add(try XCTUnwrap(worker?.claim("a")), 5)
        plexus_counter_add(try XCTUnwrap(worker?.claim("b")), 1)
        // The loop's request counters: one writer, a load and a store.
        let loopOnly = try XCTUnwrap(worker?.claim("c"))
        for _ in 0..<3 { plexus_counter_add_single_writer(loopOnly, 1) }
        worker = nil
        master.closeDescriptor()
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: master.series.map { ($0.series, $0.value) }), ["a": 5, "b": 1, "c": 3])
    }

    func testAWorkerRefusesADescriptorThatIsNoRegion() throws {
        XCTAssertThrowsError(try CounterRegion(attaching: -1))
        // Files of zeros: the region's size (no magic), shorter than its head, one byte longer.
        for bytes in [CounterRegion.size, 64, CounterRegion.size + 1] {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("not-a-region-\(UUID().uuidString)").path
            FileManager.default.createFile(atPath: path, contents: Data(count: bytes))
            defer { try? FileManager.default.removeItem(atPath: path) }
            let fd = open(path, O_RDWR)
            XCTAssertGreaterThanOrEqual(fd, 0)
            XCTAssertThrowsError(try CounterRegion(attaching: fd), "\(bytes) bytes") {
                XCTAssertTrue("\($0)".contains("counter region"), "\($0)")
            }
            XCTAssertEqual(fcntl(fd, F_GETFD), -1, "the descriptor is closed either way")
        }
        // A sealed memfd of the right size that is not a region (the access log ring's kind of memfd, no magic).
        let fd = plexus_sealed_memfd("plexus-other", UInt64(CounterRegion.size))
        XCTAssertGreaterThanOrEqual(fd, 0)
        XCTAssertThrowsError(try CounterRegion(attaching: fd)) { XCTAssertTrue("\($0)".contains("magic"), "\($0)") }
    }

    /// What a hostile worker can write: a count and capacity far past the slots (the master would
    /// read past its mapping if it believed them), and counts that are not counts.
    func testAHostileHeadOrValueCannotHurtTheMaster() throws {
        let master = try CounterRegion.shared()
        plexus_counter_add(try XCTUnwrap(master.claim("good")), 2)
        let bad = try XCTUnwrap(master.claim("nan")), negative = try XCTUnwrap(master.claim("negative"))
        let infinite = try XCTUnwrap(master.claim("infinite"))
        bad.pointee.value = .nan
        negative.pointee.value = -4
        infinite.pointee.value = .infinity
        master.storeHead(count: .max, capacity: .max)
        XCTAssertEqual(master.series.map(\.series), ["good"], "only the slots of this version's capacity are read, and only counts")
        master.storeHead(count: .max, capacity: 0)
        XCTAssertEqual(master.series.count, 0)

        let carryDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("carry-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: carryDirectory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: carryDirectory) }
        master.storeHead(count: 4, capacity: CounterRegion.capacity)
        let carry = CounterCarry(dataDirectory: carryDirectory)
        carry.absorb(master)
        XCTAssertEqual(CounterCarry.read(carry.file), ["good": 2])
    }
}
