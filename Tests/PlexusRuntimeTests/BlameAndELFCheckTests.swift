import CPlexusShims
import Foundation
@testable import PlexusRuntime
import XCTest

/// The per-thread blame record (a crash is blamed on the code of the thread that crashed) and
/// the ELF check's arithmetic on hostile header values.
final class BlameAndELFCheckTests: XCTestCase {
    private func makeRecord() -> UnsafeMutablePointer<plexus_blame_record> {
        let record = UnsafeMutablePointer<plexus_blame_record>.allocate(capacity: 1)
        memset(record, 0, MemoryLayout<plexus_blame_record>.size)
        addTeardownBlock { record.deallocate() }
        plexus_blame_set_loop_thread(record)
        return record
    }

    /// Runs `body` on a new thread and waits for it.
    private func onOtherThread(_ body: @escaping @Sendable () -> Void) {
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            body()
            done.signal()
        }
        thread.start()
        done.wait()
    }

    func testACrashOnAPoolThreadIsBlamedOnThatThreadsMarkNotOnTheLoops() throws {
        let record = makeRecord()
        nonisolated(unsafe) let shared = record
        plexus_blame_set(record, "route-plugin", "route-plugin.so", "route GET /x")
        let entered = DispatchSemaphore(value: 0), leave = DispatchSemaphore(value: 0), left = DispatchSemaphore(value: 0)
        Thread {
            plexus_blame_thread_enter(shared, "worker-plugin", "worker-plugin.so", "queue_work (off-loop work)")
            entered.signal()
            leave.wait()
            plexus_blame_thread_leave(shared)
            left.signal()
        }.start()
        entered.wait()
        let slot = withUnsafeBytes(of: &record.pointee.threads) { raw in
            raw.bindMemory(to: plexus_blame_slot.self).first { $0.thread != 0 }
        }
        let thread = try XCTUnwrap(slot?.thread)
        XCTAssertNotEqual(thread, record.pointee.loop_thread)

        record.pointee.crashed_thread = thread
        XCTAssertEqual(BlameCulprit.read(record), BlameCulprit(plugin: "worker-plugin", file: "worker-plugin.so", what: "queue_work (off-loop work)"))
        record.pointee.crashed_thread = record.pointee.loop_thread
        XCTAssertEqual(BlameCulprit.read(record)?.plugin, "route-plugin", "a crash on the loop thread is the loop's mark")
        record.pointee.crashed_thread = 0
        XCTAssertEqual(BlameCulprit.read(record)?.plugin, "route-plugin", "killed from outside (watchdog): the loop's mark")

        leave.signal()
        left.wait()
        record.pointee.crashed_thread = thread
        XCTAssertNil(BlameCulprit.read(record), "the slot was freed: no plugin code ran on the thread that crashed")
        // The crash handler named the mapping of the crash address: blamed without the worker's /proc.
        record.pointee.crashed_address = 0x7f00_0000_1000
        "/data/plugin-cache/4242-ABCDEF12-crash-thread.so".withCString { path in
            withUnsafeMutableBytes(of: &record.pointee.crashed_path) { raw in
                raw.copyBytes(from: UnsafeRawBufferPointer(start: path, count: strlen(path)))
            }
        }
        XCTAssertEqual(BlameCulprit.read(record)?.plugin, "crash-thread.so", "the mapping the crash handler wrote names the file")
        record.pointee.crashed_address = 0
        let free = withUnsafeBytes(of: &record.pointee.threads) { raw in raw.bindMemory(to: plexus_blame_slot.self).allSatisfy { $0.thread == 0 } }
        XCTAssertTrue(free)
    }

    func testLoopMarksNestAndARepeatedMarkKeepsItsTexts() {
        let record = makeRecord()
        let saved = Blame.record
        Blame.record = record
        defer { Blame.record = saved }
        func culprit() -> BlameCulprit? {
            record.pointee.crashed_thread = record.pointee.loop_thread
            return BlameCulprit.read(record)
        }
        Blame.mark(name: "outer", what: "route GET /a")
        XCTAssertEqual(culprit(), BlameCulprit(plugin: "outer", file: "outer", what: "route GET /a"))
        Blame.mark(name: "inner", what: "service x")
        XCTAssertEqual(culprit()?.plugin, "inner")
        Blame.mark(name: "innermost", what: "hook")
        XCTAssertEqual(culprit()?.plugin, "innermost")
        Blame.clear()
        XCTAssertEqual(culprit(), BlameCulprit(plugin: "inner", file: "inner", what: "service x"), "the outer mark is written back")
        Blame.clear()
        XCTAssertEqual(culprit(), BlameCulprit(plugin: "outer", file: "outer", what: "route GET /a"))
        Blame.clear()
        XCTAssertNil(culprit(), "nothing marked: no culprit")
        // The same mark again (a route called again) is active again with the same texts.
        let calls = record.pointee.calls
        Blame.mark(name: "outer", what: "route GET /a")
        XCTAssertEqual(culprit(), BlameCulprit(plugin: "outer", file: "outer", what: "route GET /a"))
        XCTAssertEqual(record.pointee.calls, calls + 1)
        Blame.clear()
        Blame.clear()  // one clear too many clears and leaves no mark behind
        XCTAssertNil(culprit())
        Blame.mark(name: "after", what: "hook")
        XCTAssertEqual(culprit()?.plugin, "after")
        Blame.clear()
    }

    func testThreadMarksNestAndEveryThreadGetsItsOwnSlot() {
        let record = makeRecord()
        nonisolated(unsafe) let shared = record
        for index in 0..<3 {
            onOtherThread {
                XCTAssertEqual(plexus_blame_thread_enter(shared, "p\(index)", "p\(index).so", "outer"), 0)
                XCTAssertEqual(plexus_blame_thread_enter(shared, "p\(index)", "p\(index).so", "inner"), 0)
                plexus_blame_thread_leave(shared)
                let held = withUnsafeBytes(of: &shared.pointee.threads) { raw in raw.bindMemory(to: plexus_blame_slot.self).filter { $0.thread != 0 }.count }
                XCTAssertEqual(held, 1, "still inside the outer mark")
                plexus_blame_thread_leave(shared)
            }
        }
        let held = withUnsafeBytes(of: &record.pointee.threads) { raw in raw.bindMemory(to: plexus_blame_slot.self).filter { $0.thread != 0 }.count }
        XCTAssertEqual(held, 0)
    }

    /// An ELF64 header for this machine with the given program header offset and count.
    private func header(phoff: UInt64, phnum: UInt16) -> Data {
        var bytes = [UInt8](repeating: 0, count: 64)
        bytes[0...6] = [0x7F, 0x45, 0x4C, 0x46, 2, 1, 1]
        bytes[16] = 3  // ET_DYN
        bytes[18] = UInt8(ELFCheck.hostMachine.code & 0xFF)
        bytes[19] = UInt8(ELFCheck.hostMachine.code >> 8)
        for byte in 0..<8 { bytes[32 + byte] = UInt8((phoff >> (8 * UInt64(byte))) & 0xFF) }
        bytes[52] = 64
        bytes[54] = 56
        bytes[56] = UInt8(phnum & 0xFF)
        return Data(bytes)
    }

    private func diagnosis(_ data: Data) throws -> PluginLoadError {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("elfcheck-\(UUID().uuidString.prefix(8)).so")
        try data.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        do {
            try ELFCheck.check(file.path, displayName: "x.so")
        } catch let error as PluginLoadError {
            return error
        }
        throw XCTSkip("accepted")
    }

    func testOffsetsNearTheTopOfTheRangeDoNotOverflow() throws {
        let error = try diagnosis(header(phoff: UInt64.max - 10, phnum: 2))
        XCTAssertEqual(error.kind, .malformedELF)
        XCTAssertTrue(error.message.hasPrefix("x.so: not a loadable shared object: truncated or corrupt: the program header table"), error.message)
        XCTAssertTrue(error.message.contains("past 2^64"), error.message)
    }

    func testAHeaderWithoutProgramHeadersIsRefused() throws {
        let error = try diagnosis(header(phoff: 64, phnum: 0))
        XCTAssertTrue(error.message.contains("no program headers"), error.message)
    }
}
