import Dispatch
import Foundation
@testable import PlexusPolicy
import PlexusStorage
import XCTest

/// Holds an audit log's storage worker until `release()`, so appends pile up in the buffer and
/// batching and dropping are deterministic.
private final class WorkerGate: Sendable {
    private let semaphore = DispatchSemaphore(value: 0)

    init(holding log: AuditLog) {
        log.engine.transaction({ [semaphore] _ in semaphore.wait() }, completion: { _ in })
    }

    func release() { semaphore.signal() }
}

final class AuditLogTests: XCTestCase {
    private func openLog(_ configuration: AuditLogConfiguration = AuditLogConfiguration()) async throws -> AuditLog {
        let directory = try makeTemporaryDirectory(self)
        let log = try await AuditLog.open(path: directory + "/audit.sqlite", configuration: configuration)
        addTeardownBlock { await log.close() }
        return log
    }

    private func record(
        _ action: AuditAction, at time: Double = 1_700_000_000, actor: String = "alice",
        outcome: AuditOutcome = .success, requestID: String? = nil, tenant: String? = nil
    ) -> AuditRecord {
        AuditRecord(
            time: time, actor: actor, actorKind: .subject, action: action, target: "notes", outcome: outcome,
            requestID: requestID, tenant: tenant, detail: "detail of \(action)")
    }

    private func allRecords(_ log: AuditLog, _ query: AuditQuery = AuditQuery(limit: 1000)) async throws -> [AuditRecord] {
        var query = query
        var records: [AuditRecord] = []
        while true {
            let page = try await log.query(query)
            records += page.records
            guard let cursor = page.nextCursor else { return records }
            query.before = cursor
        }
    }

    func testRecordsSurviveClosingAndReopening() async throws {
        let directory = try makeTemporaryDirectory(self)
        let path = directory + "/data/runtime/audit.sqlite"  // directories do not exist yet
        let first = try await AuditLog.open(path: path)
        let original = AuditRecord(
            time: 1_700_000_123.25, actor: "ip:10.1.2.3", actorKind: .ip, action: .authFailure, target: nil,
            outcome: .failure, requestID: "req-1", tenant: "acme", detail: "bad signature")
        XCTAssertEqual(first.append(original), 1)
        XCTAssertEqual(first.append(record(.adminReload, actor: "root")), 2)
        XCTAssertEqual(first.append(record(.adminPluginRelease, actor: "root")), 3)
        await first.close()
        XCTAssertEqual(first.append(record(.adminReload)), 0, "appends after close are refused")
        XCTAssertEqual(first.statistics.droppedAfterClose, 1)

        let second = try await AuditLog.open(path: path)
        let page = try await second.query()
        XCTAssertEqual(page.records.map(\.id), [3, 2, 1], "newest first")
        XCTAssertEqual(page.records.map(\.action), [.adminPluginRelease, .adminReload, .authFailure])
        var expected = original
        expected.id = 1
        XCTAssertEqual(page.records.last, expected, "every field round-trips")
        XCTAssertNil(page.nextCursor)
        XCTAssertEqual(second.append(record(.adminReload)), 4, "ids continue after a reopen")
        await second.close()
    }

    func testTenThousandAppendsAreWrittenInBatches() async throws {
        let log = try await openLog(AuditLogConfiguration(bufferCapacity: 10_000, maxBatchSize: 1_000))
        let gate = WorkerGate(holding: log)
        for index in 0..<10_000 {
            log.append(record(index % 10 == 0 ? .adminReload : .authFailure, at: Double(index)))
        }
        XCTAssertEqual(log.statistics.pending, 10_000)
        gate.release()
        try await log.flush()
        let statistics = log.statistics
        XCTAssertEqual(statistics.appended, 10_000)
        XCTAssertEqual(statistics.written, 10_000)
        XCTAssertEqual(statistics.batches, 10, "one transaction per 1,000 records")
        XCTAssertEqual(statistics.dropped, 0)
        XCTAssertEqual(statistics.pending, 0)

        let records = try await allRecords(log)
        XCTAssertEqual(records.count, 10_000)
        XCTAssertEqual(records.map(\.id), Array((1...10_000).reversed()).map(Int64.init))
    }

    func testFilters() async throws {
        let log = try await openLog()
        log.append(record(.authFailure, at: 100, actor: "ip:1.2.3.4", outcome: .failure, requestID: "r1"))
        log.append(record(.authDenied, at: 200, actor: "bob", outcome: .denied, requestID: "r2", tenant: "acme"))
        log.append(record(.adminReload, at: 300, actor: "root", requestID: "r3"))
        log.append(record(.adminPluginRelease, at: 400, actor: "root", requestID: "r3"))
        log.append(record(AuditAction(rawValue: "authz.check"), at: 500, actor: "bob"))
        log.append(record(.circuitOpen, at: 600, actor: "system", outcome: .failure))
        try await log.flush()

        func ids(_ query: AuditQuery) async throws -> [Int64] { try await log.query(query).records.map(\.id) }
        let idsSince = try await ids(AuditQuery(since: 300))
        XCTAssertEqual(idsSince, [6, 5, 4, 3], "since is inclusive")
        let idsUntil = try await ids(AuditQuery(until: 300))
        XCTAssertEqual(idsUntil, [2, 1], "until is exclusive")
        let idsBetween = try await ids(AuditQuery(since: 200, until: 500))
        XCTAssertEqual(idsBetween, [4, 3, 2])
        let idsExact = try await ids(AuditQuery(action: .exact(.adminReload)))
        XCTAssertEqual(idsExact, [3])
        let idsAuth = try await ids(AuditQuery(action: .prefix("auth.")))
        XCTAssertEqual(idsAuth, [2, 1], "the prefix auth. does not match authz.")
        let idsAdminPlugin = try await ids(AuditQuery(action: .prefix("admin.plugin")))
        XCTAssertEqual(idsAdminPlugin, [4])
        let idsEveryPrefix = try await ids(AuditQuery(action: .prefix("")))
        XCTAssertEqual(idsEveryPrefix.count, 6)
        let idsActor = try await ids(AuditQuery(actor: "root"))
        XCTAssertEqual(idsActor, [4, 3])
        let idsOutcome = try await ids(AuditQuery(outcome: .failure))
        XCTAssertEqual(idsOutcome, [6, 1])
        let idsRequest = try await ids(AuditQuery(requestID: "r3"))
        XCTAssertEqual(idsRequest, [4, 3])
        let idsTenant = try await ids(AuditQuery(tenant: "acme"))
        XCTAssertEqual(idsTenant, [2])
        let idsCombined = try await ids(AuditQuery(since: 150, action: .prefix("auth"), actor: "bob"))
        XCTAssertEqual(idsCombined, [5, 2])
        let idsNone = try await ids(AuditQuery(actor: "nobody"))
        XCTAssertEqual(idsNone, [])
    }

    func testPaging() async throws {
        let log = try await openLog()
        for index in 0..<25 { log.append(record(.adminReload, at: Double(index))) }
        try await log.flush()

        let first = try await log.query(AuditQuery(limit: 10))
        XCTAssertEqual(first.records.map(\.id), Array((16...25).reversed()).map(Int64.init))
        XCTAssertEqual(first.nextCursor, 16)
        let second = try await log.query(AuditQuery(limit: 10, before: first.nextCursor))
        XCTAssertEqual(second.records.map(\.id), Array((6...15).reversed()).map(Int64.init))
        let third = try await log.query(AuditQuery(limit: 10, before: second.nextCursor))
        XCTAssertEqual(third.records.map(\.id), [5, 4, 3, 2, 1])
        XCTAssertNil(third.nextCursor)

        let exact = try await log.query(AuditQuery(limit: 25))
        XCTAssertEqual(exact.records.count, 25)
        XCTAssertNil(exact.nextCursor, "no cursor when the page ends exactly at the last record")
        XCTAssertEqual(AuditQuery(limit: 5_000).effectiveLimit, 1_000)
        XCTAssertEqual(AuditQuery(limit: 0).effectiveLimit, 1)
        let defaultPage = try await log.query()
        XCTAssertEqual(defaultPage.records.count, 25)
    }

    func testRetentionPrunesOldRecords() async throws {
        let log = try await openLog(AuditLogConfiguration(retentionDays: 30, bufferCapacity: 20_000))
        let now = 1_700_000_000.0
        let day = 86_400.0
        for _ in 0..<12_000 { log.append(record(.authFailure, at: now - 40 * day)) }  // more than one chunk
        log.append(record(.adminReload, at: now - 31 * day))
        log.append(record(.adminReload, at: now - 29 * day))
        log.append(record(.adminReload, at: now))
        try await log.flush()

        let pruned = try await log.prune(now: now)
        XCTAssertEqual(pruned, 12_001)
        let left = try await log.query()
        XCTAssertEqual(left.records.map(\.time), [now, now - 29 * day])
        let again = try await log.prune(now: now)
        XCTAssertEqual(again, 0)
        XCTAssertEqual(log.append(record(.adminReload, at: now)), 12_004, "ids are not reused after pruning")
    }

    func testAFloodDropsTheOldestAuthFailuresButNeverAdminActions() async throws {
        let log = try await openLog(AuditLogConfiguration(bufferCapacity: 100))
        let gate = WorkerGate(holding: log)
        for _ in 0..<5 { log.append(record(.adminReload)) }  // ids 1...5
        for _ in 0..<200 { log.append(record(.authFailure, outcome: .failure)) }  // ids 6...205
        for _ in 0..<5 { log.append(record(.adminPluginRelease)) }  // ids 206...210
        XCTAssertEqual(log.statistics.dropped, 110)
        XCTAssertEqual(log.statistics.pending, 100)
        gate.release()
        try await log.flush()

        let failures = try await allRecords(log, AuditQuery(action: .exact(.authFailure), limit: 1000))
        XCTAssertEqual(failures.count, 90)
        XCTAssertEqual(failures.map(\.id).min(), 116, "the newest 90 failures were kept")
        let admin = try await allRecords(log, AuditQuery(action: .prefix("admin."), limit: 1000))
        XCTAssertEqual(admin.map(\.id), [210, 209, 208, 207, 206, 5, 4, 3, 2, 1])
        XCTAssertEqual(log.statistics.written, 100)
    }

    func testAdminActionsAreKeptEvenPastTheCapacity() async throws {
        let log = try await openLog(AuditLogConfiguration(bufferCapacity: 10))
        let gate = WorkerGate(holding: log)
        for _ in 0..<50 { log.append(record(.adminReload)) }
        log.append(record(.authFailure))  // the only droppable record, and the buffer is over capacity
        XCTAssertEqual(log.statistics.pending, 50)
        XCTAssertEqual(log.statistics.dropped, 1)
        gate.release()
        try await log.flush()
        XCTAssertEqual(log.statistics.written, 50)
    }

    func testAFailedBatchIsKeptAndRetried() async throws {
        let log = try await openLog()
        log.append(record(.adminReload))
        try await log.flush()
        try await log.engine.execute("ALTER TABLE audit_log RENAME TO audit_log_away")
        log.append(record(.adminPluginRelease))
        do {
            try await log.flush()
            XCTFail("the write should fail while the table is gone")
        } catch {
            XCTAssertEqual(error.kind, .storage)
            XCTAssertNotNil(error.storageError)
        }
        // The append starts a write of its own; flush's waiter joins that batch or, when it came
        // too late for it, starts one more: one or two failed batches, never a lost record.
        XCTAssertTrue((1...2).contains(log.statistics.failedBatches), "failed batches: \(log.statistics.failedBatches)")
        XCTAssertEqual(log.statistics.pending, 1, "the record is kept for a retry")
        try await log.engine.execute("ALTER TABLE audit_log_away RENAME TO audit_log")
        try await log.flush()
        let page = try await log.query()
        XCTAssertEqual(page.records.map(\.action), [.adminPluginRelease, .adminReload])
    }

    func testDetailIsCutAndFlushWithNothingPendingReturns() async throws {
        let log = try await openLog(AuditLogConfiguration(maxDetailLength: 8))
        try await log.flush()
        var long = record(.authFailure)
        long.detail = String(repeating: "x", count: 100)
        log.append(long)
        try await log.flush()
        let stored = try await log.query().records
        XCTAssertEqual(stored.first?.detail, "xxxxxxxx")
    }

    func testConfigurationIsValidated() async throws {
        let directory = try makeTemporaryDirectory(self)
        for bad in [
            AuditLogConfiguration(retentionDays: 0), AuditLogConfiguration(bufferCapacity: 0),
            AuditLogConfiguration(maxBatchSize: 0), AuditLogConfiguration(maxDetailLength: -1),
        ] {
            do {
                _ = try await AuditLog.open(path: directory + "/audit.sqlite", configuration: bad)
                XCTFail("accepted \(bad)")
            } catch {
                XCTAssertEqual(error.kind, .invalidConfiguration)
            }
        }
    }

    func testRecordsEncodeAsPlainJSON() throws {
        var entry = record(.adminReload, requestID: "r")
        entry.id = 7
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(entry)) as? [String: Any]
        XCTAssertEqual(json?["action"] as? String, "admin.reload")
        XCTAssertEqual(json?["actorKind"] as? String, "subject")
        XCTAssertEqual(json?["outcome"] as? String, "success")
        XCTAssertEqual(try JSONDecoder().decode(AuditRecord.self, from: JSONEncoder().encode(entry)), entry)
    }
}
