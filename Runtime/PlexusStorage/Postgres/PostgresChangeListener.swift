import CLibPQ
import Dispatch
import Foundation

/// The change feed on PostgreSQL: a connection of the plugin's role LISTENs on the channel named
/// after its schema, where `_plexus_notify()` (an AFTER ROW trigger on every plugin table) sends
/// one notification per changed row. NOTIFY is transactional, so only committed changes arrive,
/// from this instance or any other on the same database. Consecutive notifications of one
/// transaction are handed over as one batch. On a lost connection it reconnects every second;
/// changes committed while it was disconnected are not reported.
final class PostgresChangeListener: ChangeFeed, @unchecked Sendable {
    private let queue: DispatchQueue
    private let keywords: [String]
    private let values: [String]
    private let channel: String
    // Touched only on `queue`.
    private var connection: OpaquePointer?
    private var source: DispatchSourceRead?
    private var handler: (@Sendable ([StorageChange]) -> Void)?
    private var stopped = false

    init(parameters: [(String, String)], schema: String) {
        keywords = parameters.map(\.0)
        values = parameters.map(\.1)
        channel = schema
        queue = DispatchQueue(label: "plexus.storage.listen:\(schema)")
    }

    /// Connects and starts listening; fails if the first connection fails.
    func start() throws(StorageError) {
        let result: Result<Void, StorageError> = queue.sync {
            do throws(StorageError) {
                try connectAndListen()
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try result.get()
    }

    func setHandler(_ handler: (@Sendable ([StorageChange]) -> Void)?) {
        queue.async { self.handler = handler }
    }

    func stop() {
        queue.async {
            self.stopped = true
            self.disconnect()
        }
    }

    private func connectAndListen() throws(StorageError) {
        let raw = PostgresConnection.connect(keywords: keywords, values: values)
        guard let raw, PQstatus(raw) == CONNECTION_OK else {
            let error = PostgresErrors.connectionError(raw)
            if let raw { PQfinish(raw) }
            throw error
        }
        PQsetNoticeProcessor(raw, { _, _ in }, nil)
        let result = PQexec(raw, "LISTEN \"\(channel)\"")
        defer { PQclear(result) }
        guard PQresultStatus(result) == PGRES_COMMAND_OK else {
            let error = PostgresErrors.error(result: result, connection: raw)
            PQfinish(raw)
            throw error
        }
        connection = raw
        let source = DispatchSource.makeReadSource(fileDescriptor: PQsocket(raw), queue: queue)
        source.setEventHandler { [weak self] in self?.readable() }
        self.source = source
        source.resume()
    }

    private func disconnect() {
        source?.cancel()
        source = nil
        if let connection { PQfinish(connection) }
        connection = nil
    }

    private func readable() {
        guard let connection else { return }
        if PQconsumeInput(connection) == 0 || PQstatus(connection) != CONNECTION_OK {
            disconnect()
            scheduleReconnect()
            return
        }
        var batches: [[StorageChange]] = []
        var lastTransaction: Int64?
        while let notification = PQnotifies(connection) {
            defer { PQfreemem(notification) }
            guard let extra = notification.pointee.extra,
                let data = String(cString: extra).data(using: .utf8),
                let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                let table = object["t"] as? String, let op = (object["o"] as? String).flatMap(StorageChange.Operation.init(rawValue:))
            else { continue }
            let transaction = (object["x"] as? NSNumber)?.int64Value ?? -1
            let row = (object["r"] as? NSNumber)?.int64Value ?? 0
            let change = StorageChange(table: table, operation: op, rowID: row)
            if transaction == lastTransaction, !batches.isEmpty {
                batches[batches.count - 1].append(change)
            } else {
                batches.append([change])
            }
            lastTransaction = transaction
        }
        guard let handler else { return }
        for batch in batches { handler(batch) }
    }

    private func scheduleReconnect() {
        queue.asyncAfter(deadline: .now() + 1) { [weak self] in
            guard let self, !self.stopped, self.connection == nil else { return }
            do throws(StorageError) {
                try self.connectAndListen()
            } catch {
                self.scheduleReconnect()
            }
        }
    }
}
