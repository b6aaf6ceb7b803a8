import Foundation
@testable import PlexusPolicy
import PlexusStorage
import PostgresTestSupport
import XCTest

/// `plexus storage migrate`'s audit-log copy (``AuditCopy``), on a throw-away PostgreSQL: a
/// resumed copy verifies only the records the SQLite log still has, so records its retention
/// pruned between an interrupted run and the resume do not fail the verification for good; a
/// copy whose content differs still fails it.
final class AuditCopyTests: XCTestCase {
    static let now = Date().timeIntervalSince1970
    static let day = 86_400.0

    /// A SQLite audit log with `old` records 40 days old, then `recent` of today; its path.
    func makeLog(old: Int, recent: Int) async throws -> String {
        let path = try makeTemporaryDirectory(self) + "/audit.sqlite"
        let log = try await AuditLog.open(path: path, configuration: AuditLogConfiguration(retentionDays: 30, bufferCapacity: 20_000))
        for index in 0..<(old + recent) {
            let time = index < old ? Self.now - 40 * Self.day : Self.now
            log.append(AuditRecord(time: time, actor: "alice", actorKind: .subject, action: .adminReload, target: "t\(index)",
                                   outcome: .success, requestID: "r-\(index)", tenant: index % 2 == 0 ? "acme" : nil, detail: "record \(index)"))
        }
        try await log.flush()
        await log.close()
        return path
    }

    /// Prunes the log at `path` by its 30-day retention; how many records went.
    func prune(_ path: String) async throws -> Int {
        let log = try await AuditLog.open(path: path, configuration: AuditLogConfiguration(retentionDays: 30, bufferCapacity: 20_000))
        let pruned = try await log.prune(now: Self.now)
        await log.close()
        return pruned
    }

    func testAResumeAfterSQLitePrunedCopiedRecordsVerifiesWhatSQLiteStillHas() async throws {
        let cluster = try PostgresTestCluster.get()
        let url = try cluster.newDatabaseURL()
        let path = try await makeLog(old: 1_200, recent: 1_300)
        let first = try await AuditCopy.copy(sqlite: path, source: "abcdef0123456789", to: PostgresSettings(url: url))
        XCTAssertEqual(first.records, 2_500)
        XCTAssertEqual(first.copied, 2_500)

        // Between that run and the next, SQLite's retention prunes the oldest 1,200 records
        // (which PostgreSQL keeps): the next run verifies the 1,300 left, and copies none.
        let pruned = try await prune(path)
        XCTAssertEqual(pruned, 1_200)
        let resumed = try await AuditCopy.copy(sqlite: path, source: "abcdef0123456789", to: PostgresSettings(url: url))
        XCTAssertEqual(resumed.records, 1_300)
        XCTAssertEqual(resumed.copied, 0)
        let schema = try XCTUnwrap(try cluster.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'plugin_plexus_runtime%'", url: url).first)
        XCTAssertEqual(try cluster.execute("SELECT count(*) FROM \(schema).audit_log WHERE sqlite_id IS NOT NULL", url: url), ["2500"],
                       "the pruned records stay copied")

        // A copy PostgreSQL lost (its own retention) is copied again; a copy whose content
        // differs fails the verification, naming both sides.
        try cluster.execute("DELETE FROM \(schema).audit_log WHERE sqlite_id = 2000", url: url)
        let refilled = try await AuditCopy.copy(sqlite: path, source: "abcdef0123456789", to: PostgresSettings(url: url))
        XCTAssertEqual(refilled.copied, 1)
        try cluster.execute("UPDATE \(schema).audit_log SET detail = 'changed' WHERE sqlite_id = 2400", url: url)
        do {
            _ = try await AuditCopy.copy(sqlite: path, source: "abcdef0123456789", to: PostgresSettings(url: url))
            XCTFail("a changed copy passed the verification")
        } catch {
            XCTAssertTrue("\(error)".contains("the SQLite log 1300"), "\(error)")
        }
        // Another source's records with the same SQLite ids are not compared with this one's.
        let otherLog = try await makeLog(old: 0, recent: 10)
        let other = try await AuditCopy.copy(sqlite: otherLog, source: "0000000000000000", to: PostgresSettings(url: url))
        XCTAssertEqual(other.copied, 10)
    }
}
