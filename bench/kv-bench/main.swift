import CSQLite
import Dispatch
import Foundation
import PlexusStorage

// Key-value get and put: the storage engine every plugin's `context.storage` calls (its worker
// thread, versions, compare-and-set check, TTL column), against raw SQLite doing the same
// statements on one connection with the same settings (WAL, synchronous=NORMAL). Sequential
// operations, 64-byte values, each waited for before the next.
let operations = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 20_000
let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kv-bench-\(getpid())")
try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: directory) }
let value = [UInt8](repeating: 0x61, count: 64)

func measure(_ label: String, _ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    print("\(label): \(Int(Double(operations) / seconds)) ops/s")
    return seconds
}

// Engine.
let engine = try await StorageEngine.open(at: directory.appendingPathComponent("engine.sqlite").path)
// One at a time: each operation waits for the previous one (the latency of the hop to the
// storage thread and back is in every operation).
_ = try await measureAsync("engine put, one at a time") { for i in 0..<operations { _ = try await engine.put("key-\(i)", value: value) } }
_ = try await measureAsync("engine get, one at a time") { for i in 0..<operations { _ = try await engine.get("key-\(i)") } }
// 64 in flight, as a loop serving many requests issues them: the worker drains a queue.
let enginePut = try await measureAsync("engine put, 64 in flight") { try await inFlight { i in _ = try await engine.put("key-\(i)", value: value) } }
let engineGet = try await measureAsync("engine get, 64 in flight") { try await inFlight { i in _ = try await engine.get("key-\(i)") } }
try await engine.close()

func inFlight(_ operation: @escaping @Sendable (Int) async throws -> Void) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        var next = 0
        while next < min(64, operations) { let i = next; group.addTask { try await operation(i) }; next += 1 }
        while try await group.next() != nil {
            if next < operations { let i = next; group.addTask { try await operation(i) }; next += 1 }
        }
    }
}

func measureAsync(_ label: String, _ body: () async throws -> Void) async throws -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try await body()
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    print("\(label): \(Int(Double(operations) / seconds)) ops/s")
    return seconds
}

// Raw SQLite, same table shape and statements.
var db: OpaquePointer?
sqlite3_open(directory.appendingPathComponent("raw.sqlite").path, &db)
sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; CREATE TABLE kv(key TEXT PRIMARY KEY, value BLOB, version INTEGER, expires_at REAL) WITHOUT ROWID", nil, nil, nil)
var put: OpaquePointer?, get: OpaquePointer?
sqlite3_prepare_v2(db, "INSERT INTO kv(key, value, version, expires_at) VALUES (?, ?, 1, NULL) ON CONFLICT(key) DO UPDATE SET value = excluded.value, version = version + 1", -1, &put, nil)
sqlite3_prepare_v2(db, "SELECT value, version, expires_at FROM kv WHERE key = ?", -1, &get, nil)
let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
let rawPut = measure("raw put   ") {
    for i in 0..<operations {
        sqlite3_bind_text(put, 1, "key-\(i)", -1, transient)
        value.withUnsafeBytes { _ = sqlite3_bind_blob(put, 2, $0.baseAddress, Int32($0.count), transient) }
        sqlite3_step(put)
        sqlite3_reset(put)
    }
}
let rawGet = measure("raw get   ") {
    for i in 0..<operations {
        sqlite3_bind_text(get, 1, "key-\(i)", -1, transient)
        _ = sqlite3_step(get)
        _ = sqlite3_column_blob(get, 0)
        sqlite3_reset(get)
    }
}
sqlite3_finalize(put)
sqlite3_finalize(get)
sqlite3_close(db)
print(String(format: "engine (64 in flight)/raw time: put %.2fx, get %.2fx (target within 1.3x)", enginePut / rawPut, engineGet / rawGet))
if enginePut / rawPut > 1.3 || engineGet / rawGet > 1.3 {
    print("kv-bench: TARGET MISSED: the engine takes more than 1.3x the raw time")
    exit(3)
}
