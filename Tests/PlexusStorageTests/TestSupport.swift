import CSQLite
import Foundation
import PlexusStorage
import XCTest

/// A fresh temporary directory, removed by the caller's `addTeardownBlock`.
func makeTemporaryDirectory(_ test: XCTestCase) throws -> String {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("plexus-storage-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url.path
}

/// Runs `body`, which must fail with a `StorageError` of `kind`; returns that error.
@discardableResult
func assertStorageError<T>(
    _ kind: StorageError.Kind, file: StaticString = #filePath, line: UInt = #line,
    _ body: () async throws(StorageError) -> T
) async -> StorageError? {
    do {
        let value = try await body()
        XCTFail("expected a \(kind) error, got \(value)", file: file, line: line)
        return nil
    } catch {
        XCTAssertEqual(error.kind, kind, "unexpected error: \(error)", file: file, line: line)
        return error
    }
}

/// A thread-safe box for values collected on the worker.
final class Locked<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()
    init(_ value: Value) { self.value = value }
    func withLock<R>(_ body: (inout Value) -> R) -> R {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
    var current: Value { withLock { $0 } }
}

/// A clock the test moves by hand.
final class ManualClock: @unchecked Sendable {
    private let now = Locked(Date(timeIntervalSince1970: 1_700_000_000))
    func advance(_ seconds: TimeInterval) { now.withLock { $0 += seconds } }
    var date: Date { now.current }
}

/// A raw SQLite connection beside the engine, for checks the sandbox would refuse.
final class RawConnection {
    let db: OpaquePointer
    init(_ path: String) throws {
        var raw: OpaquePointer?
        guard sqlite3_open(path, &raw) == SQLITE_OK, let raw else { throw NSError(domain: "sqlite", code: 1) }
        db = raw
        sqlite3_busy_timeout(db, 2000)
    }
    deinit { sqlite3_close_v2(db) }

    @discardableResult
    func exec(_ sql: String) -> Int32 { sqlite3_exec(db, sql, nil, nil, nil) }

    /// The first column of every row, as text.
    func column(_ sql: String) -> [String] {
        var stmt: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &stmt, nil) == SQLITE_OK else { return ["<error: \(String(cString: sqlite3_errmsg(db)))>"] }
        defer { sqlite3_finalize(stmt) }
        var out: [String] = []
        while sqlite3_step(stmt) == SQLITE_ROW {
            out.append(sqlite3_column_text(stmt, 0).map { String(cString: $0) } ?? "NULL")
        }
        return out
    }
}

/// A configuration for tests: no background purge.
func testConfiguration(clock: ManualClock? = nil) -> StorageConfiguration {
    var configuration = StorageConfiguration()
    configuration.purgeInterval = nil
    if let clock { configuration.clock = { clock.date } }
    return configuration
}

/// Opens a fresh engine in a new temporary directory.
func openEngine(_ test: XCTestCase, clock: ManualClock? = nil) async throws -> StorageEngine {
    let directory = try makeTemporaryDirectory(test)
    return try await StorageEngine.open(pluginName: "test-plugin", dataDirectory: directory, configuration: testConfiguration(clock: clock))
}

func count(_ engine: StorageEngine, _ table: String) async throws -> Int64 {
    try await engine.query("SELECT count(*) FROM \(table)").rows[0][0].integerValue ?? -1
}
