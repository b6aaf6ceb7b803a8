import Foundation
import PlexusStorage

/// The durable audit log: who authenticated, who was refused, what administrators did.
///
/// Records go to an SQLite file through `PlexusStorage`. `append` never blocks the event loop: it
/// stamps the record and queues it in memory; the storage engine's worker writes queued records in
/// batches, one transaction per batch, each batch taking whatever accumulated while the previous
/// one was written (up to `maxBatchSize`). The buffer is bounded: past `bufferCapacity`, the oldest
/// unwritten droppable records (`auth.failure` by default) are discarded and counted, so a flood of
/// failed logins cannot exhaust memory; other records (admin actions) are never discarded.
///
/// Thread-safe. One `AuditLog` per file.
public final class AuditLog: Sendable {
    /// The database file.
    public let path: String
    /// The buffering, batching, dropping and retention settings.
    public let configuration: AuditLogConfiguration
    let engine: StorageEngine
    private let buffer: AuditBuffer

    private init(path: String, configuration: AuditLogConfiguration, engine: StorageEngine, lastID: Int64) {
        self.path = path
        self.configuration = configuration
        self.engine = engine
        self.buffer = AuditBuffer(configuration: configuration, lastID: lastID)
    }

    /// Opens (creating the file and its directories as needed) the audit log at `path`, e.g.
    /// `<data>/runtime/audit.sqlite`, and applies its schema.
    ///
    /// - Throws: `.invalidConfiguration` for a bad configuration; `.storage` if the directory or
    ///   database cannot be created or opened.
    public static func open(
        path: String, configuration: AuditLogConfiguration = AuditLogConfiguration()
    ) async throws(PolicyError) -> AuditLog {
        try configuration.validate()
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw PolicyError(.storage, "audit log: cannot create directory \(directory.path): \(error)")
        }
        var storage = StorageConfiguration()
        storage.purgeInterval = nil
        let engine: StorageEngine
        do {
            engine = try await StorageEngine.open(at: path, configuration: storage)
        } catch {
            throw PolicyError(storage: error)
        }
        do {
            try await engine.migrate(AuditSchema.migrations)
            let lastID = try await engine.query(AuditSchema.lastID).rows.first?[0].integerValue ?? 0
            return AuditLog(path: path, configuration: configuration, engine: engine, lastID: lastID)
        } catch {
            await engine.close()
            throw PolicyError(storage: error)
        }
    }

    /// The storage name of the runtime's own tables on PostgreSQL (shared with the API keys).
    public static let postgresStorageName = "plexus.runtime"

    /// Opens the audit log on PostgreSQL (`[cluster] postgres`): one log every instance on that
    /// database writes to and reads, numbered by the database.
    public static func open(
        postgres settings: PostgresSettings, configuration: AuditLogConfiguration = AuditLogConfiguration()
    ) async throws(PolicyError) -> AuditLog {
        try configuration.validate()
        var storage = StorageConfiguration()
        storage.purgeInterval = nil
        let engine: StorageEngine
        do {
            engine = try await StorageEngine.open(pluginName: postgresStorageName, postgres: settings, configuration: storage)
        } catch {
            throw PolicyError(storage: error)
        }
        do {
            try await engine.migrate(AuditSchema.migrations)
            return AuditLog(path: engine.path, configuration: configuration, engine: engine, lastID: 0)
        } catch {
            await engine.close()
            throw PolicyError(storage: error)
        }
    }

    /// Queues a record for writing and returns the id it was given; never blocks on the disk.
    /// (On PostgreSQL that id orders this process's buffer; the stored record is numbered by the database.)
    ///
    /// The record's `id` is replaced; a `detail` longer than `maxDetailLength` is cut. After
    /// `close`, the record is discarded (counted in `droppedAfterClose`) and 0 is returned.
    @discardableResult
    public func append(_ record: AuditRecord) -> Int64 {
        let (id, startWriter) = buffer.append(record)
        if startWriter { writeNextBatch() }
        return id
    }

    /// Calls `completion` (on the storage worker) once every record appended before this call is
    /// written, or with the error if a write failed meanwhile.
    public func flush(completion: @escaping @Sendable (Result<Void, PolicyError>) -> Void) {
        let (immediate, startWriter) = buffer.addWaiter(completion)
        if let immediate { completion(immediate) }
        if startWriter { writeNextBatch() }
    }

    /// Returns once every record appended before this call is written.
    ///
    /// - Throws: the write failure, if one happened meanwhile (the records are kept and retried).
    public func flush() async throws(PolicyError) {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Void, PolicyError>, Never>) in
            flush { continuation.resume(returning: $0) }
        }
        try result.get()
    }

    /// Reads one page of written records, newest first (records still buffered are not seen;
    /// `flush()` first to read your own appends).
    public func query(_ query: AuditQuery = AuditQuery()) async throws(PolicyError) -> AuditPage {
        let (sql, parameters) = AuditSchema.select(query)
        let rows: [StorageRow]
        do {
            rows = try await engine.query(sql, parameters).rows
        } catch {
            throw PolicyError(storage: error)
        }
        let limit = query.effectiveLimit
        let records = rows.prefix(limit).map(AuditSchema.record)
        return AuditPage(records: Array(records), nextCursor: rows.count > limit ? records.last?.id : nil)
    }

    /// Deletes records older than `retentionDays` before `now` (Unix seconds); returns how many.
    /// Deletes in chunks, each its own job on the worker, so appends keep being written meanwhile.
    @discardableResult
    public func prune(now: Double) async throws(PolicyError) -> Int {
        let cutoff = now - configuration.retentionDays * 86_400
        let chunk = 5_000
        var total = 0
        while true {
            let changes: Int
            do {
                changes = try await engine.execute(AuditSchema.pruneChunk, [.real(cutoff), .integer(Int64(chunk))]).changes
            } catch {
                throw PolicyError(storage: error)
            }
            total += changes
            if changes < chunk { return total }
        }
    }

    /// Counters since the log was opened.
    public var statistics: AuditLogStatistics { buffer.statistics }

    /// Stops accepting records, writes those pending, and closes the file.
    public func close() async {
        buffer.stopAccepting()
        try? await flush()
        await engine.close()
    }

    /// Queues one writer job on the engine's worker; it takes the batch when it runs, so records
    /// appended while the previous batch was being written go into this one.
    private func writeNextBatch() {
        let buffer = self.buffer
        let limit = configuration.maxBatchSize
        let insert = AuditSchema.insert(for: engine.dialect)
        engine.transaction({ transaction in
            for record in buffer.takeBatch(limit: limit) {
                try transaction.execute(insert, AuditSchema.parameters(record))
            }
        }, completion: { [self] result in
            let (again, resume) = buffer.finishBatch(result.mapError { PolicyError(storage: $0) })
            for (completion, outcome) in resume { completion(outcome) }
            if again { writeNextBatch() }
        })
    }
}
