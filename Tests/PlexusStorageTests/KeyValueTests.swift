import Foundation
import PlexusStorage
import XCTest

/// The key-value suite, one body per behaviour, run on every backend: `KeyValueTests` (SQLite)
/// and `PostgresKeyValueTests` below call the same bodies.
enum KeyValueSuite {
    static func putGetDeleteAndVersions(_ test: XCTestCase, _ backend: TestBackend) async throws {
        let engine = try await openEngine(test, backend: backend)
        let missing = try await engine.get("a")
        XCTAssertNil(missing)
        let v1 = try await engine.put("a", value: [1, 2, 3])
        XCTAssertEqual(v1, 1)
        let v2 = try await engine.put("a", value: [4])
        XCTAssertEqual(v2, 2)
        let entry = try await engine.get("a")
        XCTAssertEqual(entry?.value, [4])
        XCTAssertEqual(entry?.version, 2)
        XCTAssertNil(entry?.expiresAt)
        let empty = try await engine.put("empty", value: [])
        XCTAssertEqual(empty, 1)
        let emptyEntry = try await engine.get("empty")
        XCTAssertEqual(emptyEntry?.value, [])
        let deleted = try await engine.delete("a")
        XCTAssertTrue(deleted)
        let deletedAgain = try await engine.delete("a")
        XCTAssertFalse(deletedAgain)
        let gone = try await engine.get("a")
        XCTAssertNil(gone)
        await engine.close()
    }

    static func compareAndSet(_ test: XCTestCase, _ backend: TestBackend) async throws {
        let engine = try await openEngine(test, backend: backend)
        let created = try await engine.put("k", value: [1], expectedVersion: 0)
        XCTAssertEqual(created, 1)
        // Create-only on an existing key.
        let exists = await assertStorageError(.conflict) { () async throws(StorageError) in
            try await engine.put("k", value: [2], expectedVersion: 0)
        }
        XCTAssertEqual(exists?.currentVersion, 1)
        XCTAssertTrue(exists?.description.contains("conflict") ?? false)
        // Stale version.
        let v2 = try await engine.put("k", value: [2], expectedVersion: 1)
        XCTAssertEqual(v2, 2)
        let stale = await assertStorageError(.conflict) { () async throws(StorageError) in
            try await engine.put("k", value: [3], expectedVersion: 1)
        }
        XCTAssertEqual(stale?.currentVersion, 2)
        let value = try await engine.get("k")
        XCTAssertEqual(value?.value, [2], "a failed CAS writes nothing")
        // Expected version on a missing key.
        let missing = await assertStorageError(.conflict) { () async throws(StorageError) in
            try await engine.put("nope", value: [1], expectedVersion: 3)
        }
        XCTAssertEqual(missing?.currentVersion, 0)
        // Delete with CAS.
        await assertStorageError(.conflict) { () async throws(StorageError) in
            try await engine.delete("k", expectedVersion: 1)
        }
        let deleted = try await engine.delete("k", expectedVersion: 2)
        XCTAssertTrue(deleted)
        await engine.close()
    }

    static func listByPrefixWithPagination(_ test: XCTestCase, _ backend: TestBackend) async throws {
        let engine = try await openEngine(test, backend: backend)
        for key in ["a/3", "a/1", "a/5", "a/2", "a/4", "a", "a0", "b/1", "é/1", "é/2", "ê"] {
            try await engine.put(key, value: Array(key.utf8))
        }
        var page = try await engine.list(prefix: "a/", limit: 2)
        XCTAssertEqual(page.entries.map(\.key), ["a/1", "a/2"])
        XCTAssertEqual(page.nextCursor, "a/2")
        page = try await engine.list(prefix: "a/", limit: 2, after: page.nextCursor)
        XCTAssertEqual(page.entries.map(\.key), ["a/3", "a/4"])
        page = try await engine.list(prefix: "a/", limit: 2, after: page.nextCursor)
        XCTAssertEqual(page.entries.map(\.key), ["a/5"])
        XCTAssertNil(page.nextCursor)
        XCTAssertEqual(page.entries.first?.value, Array("a/5".utf8))
        let exact = try await engine.list(prefix: "a/", limit: 5)
        XCTAssertEqual(exact.entries.count, 5)
        XCTAssertNil(exact.nextCursor, "no next page when exactly `limit` entries remain")
        let unicode = try await engine.list(prefix: "é")
        XCTAssertEqual(unicode.entries.map(\.key), ["é/1", "é/2"])
        let all = try await engine.list()
        XCTAssertEqual(all.entries.map(\.key), ["a", "a/1", "a/2", "a/3", "a/4", "a/5", "a0", "b/1", "é/1", "é/2", "ê"])
        await assertStorageError(.misuse) { () async throws(StorageError) in try await engine.list(limit: 0) }
        await engine.close()
    }

    static func ttlExpiryAndPurge(_ test: XCTestCase, _ backend: TestBackend) async throws {
        let clock = ManualClock()
        let engine = try await openEngine(test, backend: backend, clock: clock)
        try await engine.put("short", value: [1], ttl: 10)
        try await engine.put("long", value: [2], ttl: 100)
        try await engine.put("forever", value: [3])
        let fresh = try await engine.get("short")
        XCTAssertEqual(fresh?.expiresAt, clock.date.addingTimeInterval(10))
        clock.advance(11)
        let expired = try await engine.get("short")
        XCTAssertNil(expired, "expired keys are invisible at once")
        let listed = try await engine.list()
        XCTAssertEqual(listed.entries.map(\.key), ["forever", "long"])
        // An expired key counts as absent for CAS and restarts at version 1.
        let recreated = try await engine.put("short", value: [9], ttl: 5, expectedVersion: 0)
        XCTAssertEqual(recreated, 1)
        clock.advance(100)
        let purged = try await engine.purgeExpired()
        XCTAssertEqual(purged, 2, "the re-created \"short\" and \"long\" have expired")
        let left = try await engine.list()
        XCTAssertEqual(left.entries.map(\.key), ["forever"])
        await engine.close()
    }

    static func concurrentCompareAndSetHasOneWinner(_ test: XCTestCase, _ backend: TestBackend) async throws {
        let engine = try await openEngine(test, backend: backend)
        try await engine.put("counter", value: [0])
        // 16 writers race on version 1: exactly one wins, the others see a conflict at version 2.
        let outcomes = await withTaskGroup(of: Result<Int64, StorageError>.self) { group in
            for writer in 0..<16 {
                group.addTask {
                    do throws(StorageError) {
                        return .success(try await engine.put("counter", value: [UInt8(writer)], expectedVersion: 1))
                    } catch {
                        return .failure(error)
                    }
                }
            }
            var all: [Result<Int64, StorageError>] = []
            for await outcome in group { all.append(outcome) }
            return all
        }
        let wins = outcomes.compactMap { try? $0.get() }
        XCTAssertEqual(wins, [2], "one compare-and-set wins")
        let conflicts = outcomes.compactMap { result -> StorageError? in
            if case .failure(let error) = result { return error } else { return nil }
        }
        XCTAssertEqual(conflicts.count, 15)
        XCTAssertTrue(conflicts.allSatisfy { $0.kind == .conflict && $0.currentVersion == 2 }, "\(conflicts)")
        await engine.close()
    }

    static func keysAreBoundedAndTyped(_ test: XCTestCase, _ backend: TestBackend) async throws {
        let engine = try await openEngine(test, backend: backend)
        await assertStorageError(.misuse) { () async throws(StorageError) in try await engine.put("k", value: [1], ttl: 0) }
        await assertStorageError(.misuse) { () async throws(StorageError) in try await engine.put("k", value: [1], ttl: -1) }
        await assertStorageError(.misuse) { () async throws(StorageError) in try await engine.put("k", value: [1], expectedVersion: -2) }
        // Keys that look like SQL or patterns are just keys.
        for key in ["'; DROP TABLE _plexus_kv; --", "%", "_", "a\\b", "ключ"] {
            let version = try await engine.put(key, value: Array(key.utf8))
            XCTAssertEqual(version, 1)
            let entry = try await engine.get(key)
            XCTAssertEqual(entry?.value, Array(key.utf8))
        }
        let percent = try await engine.list(prefix: "%")
        XCTAssertEqual(percent.entries.map(\.key), ["%"], "a prefix is not a LIKE pattern")
        let big = [UInt8](repeating: 7, count: 1 << 20)
        try await engine.put("big", value: big)
        let read = try await engine.get("big")
        XCTAssertEqual(read?.value, big)
        await engine.close()
    }
}

final class KeyValueTests: XCTestCase {
    func testPutGetDeleteAndVersions() async throws { try await KeyValueSuite.putGetDeleteAndVersions(self, .sqlite) }
    func testCompareAndSet() async throws { try await KeyValueSuite.compareAndSet(self, .sqlite) }
    func testListByPrefixWithPagination() async throws { try await KeyValueSuite.listByPrefixWithPagination(self, .sqlite) }
    func testTTLExpiryAndPurge() async throws { try await KeyValueSuite.ttlExpiryAndPurge(self, .sqlite) }
    func testConcurrentCompareAndSetHasOneWinner() async throws { try await KeyValueSuite.concurrentCompareAndSetHasOneWinner(self, .sqlite) }
    func testKeysAreBoundedAndTyped() async throws { try await KeyValueSuite.keysAreBoundedAndTyped(self, .sqlite) }
}

/// The same key-value suite on PostgreSQL (a throw-away cluster; see `PostgresTestCluster`).
final class PostgresKeyValueTests: XCTestCase {
    func testPutGetDeleteAndVersions() async throws { try await KeyValueSuite.putGetDeleteAndVersions(self, .postgresql) }
    func testCompareAndSet() async throws { try await KeyValueSuite.compareAndSet(self, .postgresql) }
    func testListByPrefixWithPagination() async throws { try await KeyValueSuite.listByPrefixWithPagination(self, .postgresql) }
    func testTTLExpiryAndPurge() async throws { try await KeyValueSuite.ttlExpiryAndPurge(self, .postgresql) }
    func testConcurrentCompareAndSetHasOneWinner() async throws { try await KeyValueSuite.concurrentCompareAndSetHasOneWinner(self, .postgresql) }
    func testKeysAreBoundedAndTyped() async throws { try await KeyValueSuite.keysAreBoundedAndTyped(self, .postgresql) }
}
