import CLibPQ
import Foundation

/// One connection to the test cluster that stays open between statements, for tests that hold
/// a transaction (and its locks) while the runtime works: `BEGIN; LOCK TABLE …`, then `COMMIT`.
public final class PostgresTestSession {
    private let connection: OpaquePointer?

    /// Connects to `url` (a ``PostgresTestCluster`` URL); throws the server's message.
    public init(url: String) throws {
        connection = PQconnectdb(url)
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(connection))
            PQfinish(connection)
            throw NSError(domain: "postgres", code: 1, userInfo: [NSLocalizedDescriptionKey: message])
        }
    }

    deinit { PQfinish(connection) }

    /// Runs `sql` (one or more statements) on this connection; throws the server's message.
    public func execute(_ sql: String) throws {
        let result = PQexec(connection, sql)
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
            throw NSError(domain: "postgres", code: 2, userInfo: [NSLocalizedDescriptionKey: String(cString: PQerrorMessage(connection))])
        }
    }
}
