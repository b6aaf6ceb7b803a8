@testable import PlexusRuntime
import PlexusStorage
import XCTest

/// `[cluster] postgres*`: read over the defaults, bounded, and every mistake named.
final class ClusterPostgresSettingsTests: XCTestCase {
    private func config(_ text: String) throws -> RuntimeConfig {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("cfg-\(UUID().uuidString).toml")
        try text.write(to: url, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: url) }
        return try RuntimeConfig(file: url)
    }

    private func refused(_ text: String, naming fragments: [String], line: UInt = #line) {
        XCTAssertThrowsError(try config(text), line: line) { error in
            for fragment in fragments {
                XCTAssertTrue("\(error)".contains(fragment), "\(error) does not name \(fragment)", line: line)
            }
        }
    }

    func testAbsentMeansSQLiteAndDefaultsApply() throws {
        XCTAssertNil(try config("[server]\nlisten = \"127.0.0.1:0\"\n").clusterPostgres)
        let settings = try XCTUnwrap(try config("[cluster]\npostgres = \"postgresql://plexus@127.0.0.1:5432/plexus\"\n").clusterPostgres)
        XCTAssertEqual(settings, PostgresSettings(url: "postgresql://plexus@127.0.0.1:5432/plexus"))
        XCTAssertEqual(settings.poolSize, 4)
        XCTAssertEqual(settings.statementTimeoutMilliseconds, 5_000)
    }

    func testPoolAndTimeoutsAreRead() throws {
        let settings = try XCTUnwrap(try config("""
            [cluster]
            postgres = "postgres://u:pw@db:5432/x"
            postgres_pool_size = 16
            postgres_statement_timeout_ms = 0
            postgres_connect_timeout_s = 9
            """).clusterPostgres)
        XCTAssertEqual(settings.poolSize, 16)
        XCTAssertEqual(settings.statementTimeoutMilliseconds, 0)
        XCTAssertEqual(settings.connectTimeoutSeconds, 9)
    }

    func testBadValuesAreRefusedNamingTheKey() {
        let url = "postgres = \"postgresql://u@h/db\"\n"
        refused("[cluster]\npostgres = \"mysql://u@h/db\"\n", naming: ["cluster.postgres", "postgresql://"])
        refused("[cluster]\n\(url)postgres_pool_size = 0\n", naming: ["cluster.postgres_pool_size", "1 to 64"])
        refused("[cluster]\n\(url)postgres_pool_size = 65\n", naming: ["cluster.postgres_pool_size"])
        refused("[cluster]\n\(url)postgres_pool_size = \"four\"\n", naming: ["cluster.postgres_pool_size", "four"])
        refused("[cluster]\n\(url)postgres_statement_timeout_ms = 3600001\n", naming: ["cluster.postgres_statement_timeout_ms"])
        refused("[cluster]\n\(url)postgres_statement_timeout_ms = -1\n", naming: ["cluster.postgres_statement_timeout_ms"])
        refused("[cluster]\n\(url)postgres_connect_timeout_s = 0\n", naming: ["cluster.postgres_connect_timeout_s"])
        refused("[cluster]\n\(url)postgres_pool = 4\n", naming: ["cluster.postgres_pool", "unknown"])
        refused("[cluster]\npostgres_pool_size = 4\n", naming: ["cluster.postgres_pool_size", "cluster.postgres (the URL) is not"])
    }

    func testPasswordsAreRedactedInMessages() {
        XCTAssertEqual(PostgresSettings.redacted("postgresql://u:secret@h:5432/db"), "postgresql://u:***@h:5432/db")
        XCTAssertEqual(PostgresSettings.redacted("postgresql://u@h/db"), "postgresql://u@h/db")
        refused("[cluster]\npostgres = \"mysql://u:secret@h/db\"\n", naming: ["***"])
        XCTAssertThrowsError(try config("[cluster]\npostgres = \"mysql://u:secret@h/db\"\n")) { error in
            XCTAssertFalse("\(error)".contains("secret"), "\(error)")
        }
    }
}
