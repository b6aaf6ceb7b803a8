import CSQLite
import Foundation
import PlexusStorage
import XCTest

#if canImport(Glibc)
import Glibc
#endif

final class FaultTests: XCTestCase {
    private func makeDatabase(rows: Int) async throws -> String {
        let directory = try makeTemporaryDirectory(self)
        let path = directory + "/db.sqlite"
        let engine = try await StorageEngine.open(at: path, configuration: testConfiguration())
        try await engine.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, data BLOB)")
        try await engine.transaction { tx in
            for i in 0..<rows { try tx.execute("INSERT INTO t (data) VALUES (?)", [.blob(Array(repeating: UInt8(i % 256), count: 500))]) }
        }
        await engine.close()
        return path
    }

    func testGarbageFileIsATypedCorruptError() async throws {
        let path = try await makeDatabase(rows: 10)
        let garbage = (0..<16384).map { UInt8(truncatingIfNeeded: $0 &* 7919 &+ 13) }
        try Data(garbage).write(to: URL(fileURLWithPath: path))
        let error = await assertStorageError(.corrupt) { () async throws(StorageError) in
            try await StorageEngine.open(at: path, configuration: testConfiguration())
        }
        XCTAssertEqual(error?.path, path)
        XCTAssertTrue(error?.description.contains(path) ?? false, "\(String(describing: error))")
    }

    func testDamagedPagesAreATypedCorruptError() async throws {
        let path = try await makeDatabase(rows: 200)
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        let size = try handle.seekToEnd()
        XCTAssertGreaterThan(size, 16384)
        try handle.seek(toOffset: 4096)  // keep the header page, trash the rest
        try handle.write(contentsOf: Data(repeating: 0xA5, count: Int(size) - 4096))
        try handle.close()
        let error = await assertStorageError(.corrupt) { () async throws(StorageError) in
            try await StorageEngine.open(at: path, configuration: testConfiguration())
        }
        XCTAssertEqual(error?.operation, "open")
        XCTAssertTrue(error?.description.contains(path) ?? false)
    }

    func testMissingFileWithoutCreateIsNotFound() async throws {
        let directory = try makeTemporaryDirectory(self)
        var configuration = testConfiguration()
        configuration.createIfMissing = false
        await assertStorageError(.notFound) { () async throws(StorageError) in
            try await StorageEngine.open(at: directory + "/none.sqlite", configuration: configuration)
        }
    }

    func testWriteLockHeldElsewhereIsATypedBusyError() async throws {
        let directory = try makeTemporaryDirectory(self)
        var configuration = testConfiguration()
        configuration.busyTimeout = 0.2
        let engine = try await StorageEngine.open(at: directory + "/db.sqlite", configuration: configuration)
        try await engine.execute("CREATE TABLE t (a)")
        let raw = try RawConnection(engine.path)
        XCTAssertEqual(raw.exec("BEGIN IMMEDIATE; INSERT INTO t VALUES (1);"), SQLITE_OK)

        let start = Date()
        let busy = await assertStorageError(.busy) { () async throws(StorageError) in
            try await engine.put("k", value: [1])
        }
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(start), 0.15, "waited for the busy timeout")
        XCTAssertTrue(busy?.description.contains("put") ?? false)
        await assertStorageError(.busy) { () async throws(StorageError) in
            try await engine.execute("INSERT INTO t VALUES (2)")
        }
        await assertStorageError(.busy) { () async throws(StorageError) in
            try await engine.transaction { tx in try tx.execute("INSERT INTO t VALUES (3)") }
        }
        XCTAssertEqual(raw.exec("COMMIT"), SQLITE_OK)
        try await engine.put("k", value: [1])
        let rows = try await engine.query("SELECT a FROM t ORDER BY a")
        XCTAssertEqual(rows.rows.map { $0[0] }, [1], "the failed writes left nothing")
        await engine.close()
    }

    func testOperationsAfterCloseAreTypedClosedErrors() async throws {
        let engine = try await openEngine(self)
        await engine.close()
        await assertStorageError(.closed) { () async throws(StorageError) in try await engine.get("k") }
        await assertStorageError(.closed) { () async throws(StorageError) in try await engine.query("SELECT 1") }
    }

    #if os(Linux)
    /// Simulates a full disk with RLIMIT_FSIZE: writes past the limit fail with EFBIG (SIGXFSZ
    /// ignored). The limit is process-wide, so it is restored in `defer` whatever happens.
    func testDiskFullIsTypedAndCommittedDataSurvives() async throws {
        let directory = try makeTemporaryDirectory(self)
        let path = directory + "/db.sqlite"
        let engine = try await StorageEngine.open(at: path, configuration: testConfiguration())
        try await engine.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, data BLOB NOT NULL)")
        let blob = [UInt8](repeating: 0x5A, count: 8192)

        var committed = 0
        var failure: StorageError?
        do {
            var saved = rlimit()
            XCTAssertEqual(getrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &saved), 0)
            let savedHandler = signal(SIGXFSZ, SIG_IGN)
            var limited = rlimit(rlim_cur: 256 * 1024, rlim_max: saved.rlim_max)
            XCTAssertEqual(setrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &limited), 0)
            defer {
                setrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &saved)
                signal(SIGXFSZ, savedHandler)
            }
            for i in 0..<1000 {
                do {
                    try await engine.execute("INSERT INTO t (id, data) VALUES (?, ?)", [.integer(Int64(i)), .blob(blob)])
                    committed += 1
                } catch {
                    failure = error
                    break
                }
            }
        }
        XCTAssertEqual(failure?.kind, .diskFull, "\(String(describing: failure))")
        XCTAssertGreaterThan(committed, 0)
        XCTAssertLessThan(committed, 1000)

        // With room again, the same engine keeps working.
        try await engine.execute("INSERT INTO t (id, data) VALUES (?, ?)", [.integer(100_000), .blob(blob)])
        await engine.close()

        let reopened = try await StorageEngine.open(at: path, configuration: testConfiguration())
        let check = try await reopened.query("PRAGMA integrity_check")
        XCTAssertEqual(check.rows.map { $0[0] }, ["ok"])
        let n = try await count(reopened, "t")
        XCTAssertEqual(n, Int64(committed + 1), "every committed row, nothing of the failed one")
        let intact = try await reopened.query("SELECT count(*) FROM t WHERE data = ?", [.blob(blob)])
        XCTAssertEqual(intact.rows[0][0].integerValue, Int64(committed + 1))
        await reopened.close()
    }
    #endif
}
