import Dispatch
import Foundation
import PlexusStorage
import XCTest

final class BackupAndConcurrencyTests: XCTestCase {
    func testOnlineBackupProducesAnOpenableCopy() async throws {
        let directory = try makeTemporaryDirectory(self)
        var configuration = testConfiguration()
        configuration.backupPagesPerStep = 4
        let engine = try await StorageEngine.open(at: directory + "/db.sqlite", configuration: configuration)
        try await engine.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, data BLOB)")
        try await engine.transaction { tx in
            for i in 0..<500 { try tx.execute("INSERT INTO t (data) VALUES (?)", [.blob(Array(repeating: UInt8(i % 256), count: 1000))]) }
        }
        try await engine.put("k", value: [7])

        // The database keeps serving while the backup runs in steps.
        let destination = directory + "/backup.sqlite"
        async let backup: Void = engine.backup(to: destination)
        async let write = engine.execute("INSERT INTO t (data) VALUES (x'01')")
        async let read = engine.query("SELECT count(*) FROM t")
        try await backup
        _ = try await write
        _ = try await read

        let files = try FileManager.default.contentsOfDirectory(atPath: directory)
        XCTAssertFalse(files.contains { $0.contains(".partial") }, "\(files)")
        let copy = try await StorageEngine.open(at: destination, configuration: testConfiguration())
        let rows = try await count(copy, "t")
        XCTAssertTrue(rows == 500 || rows == 501, "\(rows)")
        let k = try await copy.get("k")
        XCTAssertEqual(k?.value, [7])
        let check = try await copy.query("PRAGMA integrity_check")
        XCTAssertEqual(check.rows[0][0], "ok")
        await copy.close()

        await assertStorageError(.misuse) { () async throws(StorageError) in try await engine.backup(to: engine.path) }
        await engine.close()
    }

    func testConcurrentUseFromManyThreadsIsSerialized() async throws {
        let engine = try await openEngine(self)
        try await engine.execute("CREATE TABLE counter (n INTEGER NOT NULL)")
        try await engine.execute("INSERT INTO counter VALUES (0)")
        let threads = 8, perThread = 50
        let failures = Locked<[String]>([])
        let group = DispatchGroup()
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            for i in 0..<perThread {
                group.enter()
                engine.execute("UPDATE counter SET n = n + 1") { result in
                    if case .failure(let error) = result { failures.withLock { $0.append("\(error)") } }
                    group.leave()
                }
                group.enter()
                engine.put("t\(thread)/\(i)", value: [UInt8(thread)]) { result in
                    if case .failure(let error) = result { failures.withLock { $0.append("\(error)") } }
                    group.leave()
                }
            }
        }
        await withCheckedContinuation { continuation in group.notify(queue: .global()) { continuation.resume() } }
        XCTAssertEqual(failures.current, [])
        let n = try await engine.query("SELECT n FROM counter")
        XCTAssertEqual(n.rows[0][0].integerValue, Int64(threads * perThread))
        let keys = try await engine.list(limit: 1000)
        XCTAssertEqual(keys.entries.count, threads * perThread)

        // Compare-and-set increments from concurrent tasks: no lost update.
        try await engine.put("cas", value: [0])
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for _ in 0..<8 {
                tasks.addTask {
                    for _ in 0..<10 {
                        while true {
                            let current = try await engine.get("cas")!
                            do {
                                try await engine.put("cas", value: [current.value[0] + 1], expectedVersion: current.version)
                                break
                            } catch let error as StorageError where error.kind == .conflict {
                                continue
                            }
                        }
                    }
                }
            }
            try await tasks.waitForAll()
        }
        let cas = try await engine.get("cas")
        XCTAssertEqual(cas?.value, [80])
        XCTAssertEqual(cas?.version, 81)
        await engine.close()
    }
}
