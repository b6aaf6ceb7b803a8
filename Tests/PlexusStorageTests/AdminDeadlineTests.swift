import CLibPQ
import Foundation
import PlexusStorage
import PostgresTestSupport
import XCTest

/// The administrator connection (provisioning a plugin's role and schema at start) has the
/// pool's client deadline: a server that stops answering mid-provisioning fails the start with
/// `.unavailable` naming PostgreSQL once the statement timeout plus 2 s passed, instead of
/// hanging it.
final class AdminDeadlineTests: XCTestCase {
    /// The provisioning lock is held elsewhere, so the start's administrator connection waits in
    /// `pg_advisory_lock`; then the relay in front of the server stops carrying bytes (no FIN, no
    /// RST). The start fails within the deadline (statement timeout 3 s + 2 s) naming PostgreSQL.
    func testAStartWhoseServerStopsAnsweringMidProvisioningFailsAtTheClientDeadline() throws {
        let cluster = try PostgresTestCluster.get()
        let url = try cluster.newDatabaseURL()
        let relay = try StallingRelay(upstreamPort: cluster.port)
        defer { relay.stop() }
        let relayed = relay.relaying(url, upstreamPort: cluster.port)
        XCTAssertNotEqual(relayed, url)

        // Another session holds the provisioning lock (advisory locks are per database).
        let holder = PQconnectdb(url)
        defer { PQfinish(holder) }
        XCTAssertEqual(PQstatus(holder), CONNECTION_OK)
        PQclear(PQexec(holder, "SELECT pg_advisory_lock(hashtext('plexus-provision'))"))

        let outcome = Locked<Result<Void, StorageError>?>(nil)
        let done = DispatchSemaphore(value: 0)
        let settings = PostgresSettings(url: relayed, poolSize: 1, statementTimeoutMilliseconds: 3_000)
        StorageEngine.open(pluginName: "stalled", postgres: settings, configuration: testConfiguration()) { result in
            switch result {
            case .success(let engine):
                engine.close { _ in }
                outcome.withLock { $0 = .success(()) }
            case .failure(let error):
                outcome.withLock { $0 = .failure(error) }
            }
            done.signal()
        }
        // Waits until the administrator waits for the lock, then stalls the relay.
        var waiting = false
        for _ in 0..<100 where !waiting {
            let rows = try cluster.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'plexus-admin' AND wait_event_type = 'Lock'", url: url)
            waiting = rows.first.flatMap { Int($0) }.map { $0 > 0 } ?? false
            if !waiting { usleep(20_000) }
        }
        XCTAssertTrue(waiting, "the administrator connection waits for the provisioning lock")
        relay.stall()
        _ = PQexec(holder, "SELECT pg_advisory_unlock_all()").map { PQclear($0) }

        // Waited for at most 20 s here: without a deadline the start would never end.
        guard done.wait(timeout: .now() + 20) == .success else {
            return XCTFail("the start through the stalled server did not end within 20 s")
        }
        guard case .failure(let error)? = outcome.current else { return XCTFail("the start succeeded through a stalled server") }
        XCTAssertEqual(error.kind, .unavailable, "\(error)")
        XCTAssertTrue(error.message.contains("PostgreSQL did not answer within 5000 ms"), error.message)
    }
}
