import Foundation
import XCTest
@testable import PlexusEventLog

final class CrashSafetyTests: XCTestCase {
    func testReopenRecoversCommittedEventsAndKeepsIdsMonotonic() throws {
        let path = temporaryDirectory(self).appendingPathComponent("log.sqlite").path
        var log = try EventLog.openBlocking(at: path)
        let first = try (0..<50).map { _ in try log.appendSync("c.a").id }
        log.closeSync()
        log = try EventLog.openBlocking(at: path)
        defer { log.closeSync() }
        let more = try log.appendSync("c.a").id
        XCTAssertGreaterThan(more, first.last!)
        let all = try waitFor { log.events(matching: pattern("#"), limit: 100, completion: $0) }
        XCTAssertEqual(all.map(\.id), first + [more])
    }

    func testTruncatedFileGivesCorruptError() throws {
        let path = temporaryDirectory(self).appendingPathComponent("log.sqlite").path
        let log = try EventLog.openBlocking(at: path)
        let big = String(repeating: "p", count: 3000)
        for _ in 0..<200 { try log.appendSync("c.t", big) }
        log.closeSync()
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
        XCTAssertGreaterThan(size, 100_000)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: UInt64(size / 2))
        try handle.close()
        XCTAssertThrowsError(try EventLog.openBlocking(at: path)) { error in
            XCTAssertEqual(error as? EventLogError, .corrupt, "\(error)")
            XCTAssertTrue("\(error)".contains(path), "error says where: \(error)")
        }
    }

    func testGarbageFileGivesCorruptError() throws {
        let path = temporaryDirectory(self).appendingPathComponent("log.sqlite").path
        try Data(repeating: 0x42, count: 8192).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try EventLog.openBlocking(at: path)) { error in
            XCTAssertEqual(error as? EventLogError, .corrupt, "\(error)")
        }
        // And a request queued on a log whose open failed reports the failure, not a hang.
        let failed = Locked<EventLogError?>(nil)
        let done = DispatchSemaphore(value: 0)
        EventLog.open(at: path) { result in
            if case .failure(let error) = result { failed.withLock { $0 = error } }
            done.signal()
        }
        XCTAssertEqual(done.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(failed.current, .corrupt)
    }

    /// Launches `eventlog-bench append-forever`, SIGKILLs it while it appends, then checks that
    /// every id it printed as acknowledged is stored exactly once and delivered by a group.
    func testAtLeastOnceAcrossKill() throws {
        let environment = ProcessInfo.processInfo.environment
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        // EVENTLOG_BENCH, else next to this test binary (same build directory), else .build/debug.
        let candidates: [String] = [
            environment["EVENTLOG_BENCH"],
            URL(fileURLWithPath: CommandLine.arguments.first ?? "").deletingLastPathComponent().appendingPathComponent("eventlog-bench").path as String?,
            repository.appendingPathComponent(".build/debug/eventlog-bench").path as String?,
        ].compactMap { $0 }
        guard let binary = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("eventlog-bench not found (tried \(candidates)): build it (swift build --product eventlog-bench) or set EVENTLOG_BENCH")
        }
        let path = temporaryDirectory(self).appendingPathComponent("crash.sqlite").path
        // A group that exists before the crash, so its cursor is part of the crashed state.
        let before = try EventLog.openBlocking(at: path)
        try waitFor { before.createGroup("audit", pattern: pattern("crash.#"), startAt: .beginning, completion: $0) }
        before.closeSync()

        let child = Process()
        child.executableURL = URL(fileURLWithPath: binary)
        child.arguments = ["append-forever", path]
        let pipe = Pipe()
        child.standardOutput = pipe
        try child.run()
        let reader = pipe.fileHandleForReading
        var output = Data()
        let start = Date()
        // Read acknowledgements for a moment (at least 200 ids or 3 s), then kill mid-append.
        while Date().timeIntervalSince(start) < 3 {
            let chunk = reader.availableData
            if chunk.isEmpty { break }
            output.append(chunk)
            if output.split(separator: UInt8(ascii: "\n")).count >= 200 && Date().timeIntervalSince(start) > 0.5 { break }
        }
        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()
        XCTAssertEqual(child.terminationReason, .uncaughtSignal)
        output.append(reader.readDataToEndOfFile())
        // Only complete lines are acknowledgements.
        var text = String(decoding: output, as: UTF8.self)
        if !text.hasSuffix("\n"), let lastNewline = text.lastIndex(of: "\n") { text = String(text[...lastNewline]) }
        let acknowledged = text.split(separator: "\n").compactMap { ULID(String($0)) }
        XCTAssertGreaterThan(acknowledged.count, 50, "child acknowledged some appends before the kill")
        print("at-least-once across SIGKILL: \(acknowledged.count) acknowledged ids read from the child")

        let log = try EventLog.openBlocking(at: path)
        defer { log.closeSync() }
        let stored = try waitFor { log.events(matching: pattern("#"), limit: 10_000_000, completion: $0) }
        var storedCount: [ULID: Int] = [:]
        for event in stored { storedCount[event.id, default: 0] += 1 }
        let lost = acknowledged.filter { storedCount[$0] == nil }
        XCTAssertEqual(lost.count, 0, "acknowledged ids lost after SIGKILL: \(lost.prefix(5))")
        XCTAssertTrue(acknowledged.allSatisfy { storedCount[$0] == 1 }, "each acknowledged id stored exactly once")

        var delivered: [ULID: Int] = [:]
        while true {
            let batch = try waitFor { log.fetch(group: "audit", max: 500, completion: $0) }
            if batch.isEmpty { break }
            // Acks are queued together (one group commit), then awaited.
            let acks = DispatchGroup()
            let ackErrors = Locked<[EventLogError]>([])
            for delivery in batch {
                delivered[delivery.event.id, default: 0] += 1
                acks.enter()
                log.ack(group: "audit", id: delivery.event.id) { result in
                    if case .failure(let error) = result { ackErrors.withLock { $0.append(error) } }
                    acks.leave()
                }
            }
            XCTAssertEqual(acks.wait(timeout: .now() + 30), .success)
            XCTAssertEqual(ackErrors.current, [])
        }
        let undelivered = acknowledged.filter { delivered[$0] == nil }
        XCTAssertEqual(undelivered.count, 0, "acknowledged ids never delivered to the group")
        let duplicates = delivered.values.filter { $0 > 1 }.count
        XCTAssertEqual(duplicates, 0, "no duplicates when nothing was in flight at the crash")
        XCTAssertEqual(delivered.count, stored.count, "the group receives everything stored, including unacknowledged tail commits")
    }
}
