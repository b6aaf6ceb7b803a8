import Foundation
import PlexusSDK
import TimetableSolver

/// A job row as loaded from storage at start.
struct StoredJob: Sendable {
    var id: String
    /// The owning tenant ("" for none, and for rows written before migration 3).
    var tenant: String
    var sequence: Int
    var status: JobStatus
    var format: InstanceFormat
    var replanOf: String?
    var options: JobOptions
    var input: String
    var created: Date
    var started: Date?
    var finished: Date?
    var cancelRequested: Bool
    var error: String?
    var progress: ProgressBox.Snapshot?
    var elapsed: Double?
    var hasResult: Bool
    /// The plugin instance running it ("" before migration 4), and when that instance last said it was alive.
    var owner: String = ""
    var heartbeat: Double?
}

/// The timetable plugin's tables in its own storage: one row per kept job (`timetable_jobs`, with the tenant it
/// belongs to) and the result of each finished job that has one (`timetable_results`: the result JSON and the
/// ITC2007 solution text).
///
/// Writes go through one serial chain (each waits for the one before), so a job's insert, its status
/// updates and its deletion reach the database in the order they were made, without blocking the loop.
/// Storage failures are logged and do not fail jobs: the in-memory state stays authoritative while the
/// process lives.
@PluginActor
final class JobStore {
    private let context: PluginContext
    private var tail: Task<Void, Never>?
    /// Called with a job's id when a write about it was refused for its lease (PostgreSQL).
    var onLeaseLost: (@PluginActor (String) -> Void)?

    /// This plugin instance's id: the owner of the jobs it accepts (several instances share one
    /// PostgreSQL database; each runs the jobs it accepted).
    let owner: String

    init(context: PluginContext, owner: String = UUID().uuidString.lowercased()) {
        self.context = context
        self.owner = owner
    }

    /// SQLite's text, and PostgreSQL's where it differs (REAL is single precision there, BLOB is BYTEA).
    static let migrations: [SQLMigration] = [
        SQLMigration(version: 1, sql: """
        CREATE TABLE timetable_jobs (
            id TEXT PRIMARY KEY,
            seq INTEGER NOT NULL,
            status TEXT NOT NULL,
            format TEXT NOT NULL,
            name TEXT NOT NULL,
            replan_of TEXT,
            options TEXT NOT NULL,
            input TEXT NOT NULL,
            created REAL NOT NULL,
            started REAL,
            finished REAL,
            cancel_requested INTEGER NOT NULL DEFAULT 0,
            error TEXT,
            best_hard INTEGER,
            best_soft INTEGER,
            reported_at REAL,
            updates INTEGER NOT NULL DEFAULT 0,
            elapsed REAL
        )
        """, postgresql: """
        CREATE TABLE timetable_jobs (
            id TEXT PRIMARY KEY,
            seq BIGINT NOT NULL,
            status TEXT NOT NULL,
            format TEXT NOT NULL,
            name TEXT NOT NULL,
            replan_of TEXT,
            options TEXT NOT NULL,
            input TEXT NOT NULL,
            created DOUBLE PRECISION NOT NULL,
            started DOUBLE PRECISION,
            finished DOUBLE PRECISION,
            cancel_requested INTEGER NOT NULL DEFAULT 0,
            error TEXT,
            best_hard BIGINT,
            best_soft BIGINT,
            reported_at DOUBLE PRECISION,
            updates BIGINT NOT NULL DEFAULT 0,
            elapsed DOUBLE PRECISION
        )
        """),
        SQLMigration(version: 2, sql: """
        CREATE TABLE timetable_results (
            id TEXT PRIMARY KEY,
            hard INTEGER NOT NULL,
            soft INTEGER NOT NULL,
            json BLOB NOT NULL,
            itc2007 TEXT NOT NULL
        )
        """, postgresql: """
        CREATE TABLE timetable_results (
            id TEXT PRIMARY KEY,
            hard BIGINT NOT NULL,
            soft BIGINT NOT NULL,
            json BYTEA NOT NULL,
            itc2007 TEXT NOT NULL
        )
        """),
        // The tenant of the caller that submitted the job; rows from before tenancy belong to "" (no tenant).
        SQLMigration(version: 3, sql: "ALTER TABLE timetable_jobs ADD COLUMN tenant TEXT NOT NULL DEFAULT ''"),
        // The instance running the job and its last sign of life (issue 21: instances sharing PostgreSQL).
        SQLMigration(version: 4, sql: "ALTER TABLE timetable_jobs ADD COLUMN owner TEXT NOT NULL DEFAULT ''"),
        SQLMigration(version: 5, sql: "ALTER TABLE timetable_jobs ADD COLUMN heartbeat REAL",
                     postgresql: "ALTER TABLE timetable_jobs ADD COLUMN heartbeat DOUBLE PRECISION"),
        // How many times the job was started (PostgreSQL: another instance re-runs the job of one
        // that stopped, up to `JobManager.maxAttempts` times).
        SQLMigration(version: 6, sql: "ALTER TABLE timetable_jobs ADD COLUMN attempts INTEGER NOT NULL DEFAULT 1"),
    ]

    /// Applies the migrations.
    func migrate() async throws {
        try await context.storage.migrate(Self.migrations)
    }

    /// Every stored job, oldest first; with `id`, that job of `tenant` only.
    func load(id: String? = nil, tenant: String = "") async throws -> [StoredJob] {
        let filter = id == nil ? "" : "WHERE j.id = ? AND j.tenant = ?"
        let rows = try await context.storage.query("""
            SELECT j.id, j.tenant, j.seq, j.status, j.format, j.replan_of, j.options, j.input, j.created, j.started, j.finished,
                   j.cancel_requested, j.error, j.best_hard, j.best_soft, j.reported_at, j.updates, j.elapsed,
                   EXISTS (SELECT 1 FROM timetable_results r WHERE r.id = j.id) AS has_result, j.owner, j.heartbeat
            FROM timetable_jobs j \(filter) ORDER BY j.seq
            """, id.map { [.text($0), .text(tenant)] } ?? [])
        let decoder = JSONDecoder()
        return rows.compactMap { row -> StoredJob? in
            guard let id = row["id"].text, let status = row["status"].text.flatMap(JobStatus.init(rawValue:)),
                  let format = row["format"].text.flatMap(InstanceFormat.init(rawValue:)),
                  let optionsText = row["options"].text,
                  let options = try? decoder.decode(JobOptions.self, from: Data(optionsText.utf8)),
                  let input = row["input"].text, let created = row["created"].real else { return nil }
            var progress: ProgressBox.Snapshot?
            if let hard = row["best_hard"].integer, let soft = row["best_soft"].integer {
                progress = .init(hard: Int(hard), soft: Int(soft), elapsed: row["reported_at"].real ?? 0,
                                 updates: Int(row["updates"].integer ?? 1))
            }
            return StoredJob(id: id, tenant: row["tenant"].text ?? "", sequence: Int(row["seq"].integer ?? 0), status: status, format: format,
                             replanOf: row["replan_of"].text, options: options, input: input,
                             created: Date(timeIntervalSince1970: created),
                             started: row["started"].real.map(Date.init(timeIntervalSince1970:)),
                             finished: row["finished"].real.map(Date.init(timeIntervalSince1970:)),
                             cancelRequested: row["cancel_requested"].integer == 1, error: row["error"].text,
                             progress: progress, elapsed: row["elapsed"].real, hasResult: row["has_result"].integer == 1,
                             owner: row["owner"].text ?? "", heartbeat: row["heartbeat"].real)
        }
    }

    /// The stored result of `id`: JSON or ITC2007 text.
    func result(_ id: String, text: Bool) async throws -> [UInt8]? {
        let rows = try await context.storage.query("SELECT \(text ? "itc2007" : "json") FROM timetable_results WHERE id = ?", [.text(id)])
        guard let value = rows.first?[0] else { return nil }
        return value.blob ?? value.text.map { Array($0.utf8) }
    }

    // MARK: Writes (serial, fire-and-forget; `flush()` waits for them)

    /// Records a new job.
    @discardableResult
    func insert(_ job: Job) -> Task<Void, Never> {
        let options = String(decoding: (try? JSONEncoder().encode(job.options)) ?? Data("{}".utf8), as: UTF8.self)
        let parameters: [SQLValue] = [
            .text(job.id), .text(job.tenant), .integer(Int64(job.sequence)), .text(job.status.rawValue), .text(job.format.rawValue),
            .text(job.instance.name), job.replanSource.map(SQLValue.text) ?? .null, .text(options), .text(job.input),
            .real(job.created.timeIntervalSince1970), .text(owner),
        ] + (serverNow == nil ? [.real(Date().timeIntervalSince1970)] : [])
        let heartbeat = serverNow ?? "?"
        return enqueue("insert \(job.id)") { storage in
            try await storage.execute("""
                INSERT INTO timetable_jobs (id, tenant, seq, status, format, name, replan_of, options, input, created, owner, heartbeat)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, \(heartbeat))
                ON CONFLICT (id) DO UPDATE SET tenant = excluded.tenant, seq = excluded.seq, status = excluded.status,
                    format = excluded.format, name = excluded.name, replan_of = excluded.replan_of, options = excluded.options,
                    input = excluded.input, created = excluded.created, started = NULL, finished = NULL, cancel_requested = 0,
                    error = NULL, best_hard = NULL, best_soft = NULL, reported_at = NULL, updates = 0, elapsed = NULL,
                    owner = excluded.owner, heartbeat = excluded.heartbeat
                """, parameters)
        }
    }

    /// Records `job`'s current status, times, error and progress; with `result` (JSON, ITC2007 text), its result too.
    /// On PostgreSQL the write is fenced by the job's lease (unless `lease` is false: a restart
    /// ending another instance's stale job): it changes nothing unless this instance owns the
    /// job, the job is unfinished in storage and its lease has not expired by the server's clock.
    /// The task answers false when the write was refused so (``onLeaseLost`` is called too), and
    /// true otherwise (also after a storage failure, which is logged: memory stays authoritative).
    @discardableResult
    func update(_ job: Job, result: (@Sendable () throws -> (json: [UInt8], text: String))? = nil, lease: Bool = true) -> Task<Bool, Never> {
        let snapshot = job.progress.snapshot
        var parameters: [SQLValue] = [
            .text(job.status.rawValue), job.started.map { .real($0.timeIntervalSince1970) } ?? .null,
            job.finished.map { .real($0.timeIntervalSince1970) } ?? .null, .integer(job.cancelRequested ? 1 : 0),
            job.failure.map(SQLValue.text) ?? .null,
            snapshot.map { .integer(Int64($0.hard)) } ?? .null, snapshot.map { .integer(Int64($0.soft)) } ?? .null,
            snapshot.map { .real($0.elapsed) } ?? .null, .integer(Int64(snapshot?.updates ?? 0)),
            job.outcome.map { .real($0.elapsed) } ?? .null, .text(job.id),
        ]
        if fenced && lease { parameters.append(.text(owner)) }
        // Fenced without a lease (a restart ending another instance's jobs, PostgreSQL): only a job
        // still unfinished whose lease has expired by the server's clock.
        let condition = !fenced ? "" : lease ? " AND \(leaseHeld)" : " AND \(leaseExpired)"
        let statement = (sql: """
            UPDATE timetable_jobs SET status = ?, started = ?, finished = ?, cancel_requested = ?, error = ?,
                best_hard = ?, best_soft = ?, reported_at = ?, updates = ?, elapsed = ? WHERE id = ?\(condition)
            """, parameters: parameters)
        let (id, hard, soft) = (job.id, job.outcome?.report.hardViolations ?? 0, job.outcome?.report.softCost ?? 0)
        let (context, check) = (self.context, fenced && lease)
        let guarded = fenced
        let task = enqueue("update \(job.id)", otherwise: true) { storage -> Bool in
            guard let result else {
                let changes = try await storage.execute(statement.sql, statement.parameters).changes
                if !guarded || changes > 0 { return true }
                // Nothing changed: refused for the lease when the row is there.
                return try await storage.query("SELECT 1 FROM timetable_jobs WHERE id = ?", [.text(id)]).isEmpty
            }
            let rendered = try await context.offLoop(result)
            let values: [SQLValue] = [.text(id), .integer(Int64(hard)), .integer(Int64(soft)), .blob(rendered.json), .text(rendered.text)]
            let upsert = "ON CONFLICT (id) DO UPDATE SET hard = excluded.hard, soft = excluded.soft, json = excluded.json, itc2007 = excluded.itc2007"
            guard check else {
                try await storage.transaction([
                    statement,
                    (sql: "INSERT INTO timetable_results (id, hard, soft, json, itc2007) VALUES (?, ?, ?, ?, ?) \(upsert)", parameters: values),
                ])
                return true
            }
            // Fenced (PostgreSQL): one statement, so the result is stored exactly when the fenced
            // status write changed the row, and its answer says which happened.
            let stored = try await storage.query("""
                WITH fenced AS (\(statement.sql) RETURNING id)
                INSERT INTO timetable_results (id, hard, soft, json, itc2007) SELECT ?, ?, ?, ?, ? FROM fenced \(upsert) RETURNING id
                """, statement.parameters + values)
            if !stored.isEmpty { return true }
            // Nothing changed: refused for the lease when the row is there.
            return try await storage.query("SELECT 1 FROM timetable_jobs WHERE id = ?", [.text(id)]).isEmpty
        }
        return Task { @PluginActor [weak self] in
            let written = await task.value
            if !written { self?.onLeaseLost?(id) }
            return written
        }
    }

    /// Deletes the rows of `ids` (evicted jobs).
    @discardableResult
    func delete(_ ids: [String]) -> Task<Void, Never> {
        guard !ids.isEmpty else { return tail ?? Task {} }
        return enqueue("delete \(ids.count) jobs") { storage in
            try await storage.transaction(ids.flatMap { id -> [(sql: String, parameters: [SQLValue])] in
                [(sql: "DELETE FROM timetable_results WHERE id = ?", parameters: [.text(id)]),
                 (sql: "DELETE FROM timetable_jobs WHERE id = ?", parameters: [.text(id)])]
            })
        }
    }

    // MARK: Several instances on one database

    /// The clock leases are stamped and judged by (Unix seconds): on PostgreSQL the database
    /// server's, so instances on machines whose clocks differ agree; on SQLite (one instance) this
    /// process's, given as the parameter.
    private var serverNow: String? {
        context.storage.dialect == .postgresql ? "extract(epoch FROM clock_timestamp())" : nil
    }

    /// Whether job writes are fenced by leases (PostgreSQL: several instances on one database).
    private var fenced: Bool { serverNow != nil }

    /// The lease condition of a fenced write (PostgreSQL; one parameter: the owner): this instance
    /// owns the job, it is unfinished, and its lease has not expired by the server's clock.
    private var leaseHeld: String {
        "owner = ? AND status IN ('queued', 'running') AND heartbeat >= \(serverNow ?? "0") - \(JobManager.staleAfterSeconds)"
    }

    /// The condition of a write that ends another instance's job at a restart (PostgreSQL; no
    /// parameter): the job is unfinished and its lease has expired by the server's clock.
    private var leaseExpired: String {
        "status IN ('queued', 'running') AND (heartbeat IS NULL OR heartbeat < \(serverNow ?? "0") - \(JobManager.staleAfterSeconds))"
    }

    /// Renews the leases of this instance's unfinished jobs that it still holds (an expired one is
    /// not renewed: another instance may end it). The task answers the ids renewed (nil when the
    /// write failed).
    func heartbeat() -> Task<Set<String>?, Never> {
        let now = serverNow
        let parameters: [SQLValue] = (now == nil ? [.real(Date().timeIntervalSince1970)] : []) + [.text(owner)]
        let expiry = now.map { " AND heartbeat >= \($0) - \(JobManager.staleAfterSeconds)" } ?? ""
        return enqueue("heartbeat", otherwise: nil) { storage -> Set<String>? in
            Set(try await storage.query("""
                UPDATE timetable_jobs SET heartbeat = \(now ?? "?") WHERE owner = ? AND status IN ('queued', 'running')\(expiry) RETURNING id
                """, parameters).compactMap { $0[0].text })
        }
    }

    /// Asks the instance running a job of `tenant` to cancel it (it learns of it from the change
    /// feed, or at its next heartbeat); false when no such unfinished job exists.
    func requestCancel(id: String, tenant: String) async throws -> Bool {
        try await context.storage.execute("""
            UPDATE timetable_jobs SET cancel_requested = 1 WHERE id = ? AND tenant = ? AND status IN ('queued', 'running')
            """, [.text(id), .text(tenant)]).changes > 0
    }

    /// PostgreSQL: takes over the unfinished jobs of other instances whose lease expired by the
    /// server's clock (their instance crashed or was cut off), at most `limit`, oldest first, so
    /// this instance runs them again: each becomes queued here with its attempts counted and its
    /// progress cleared (two instances claiming at once take distinct jobs; a row another one
    /// claimed first has a fresh lease, and is skipped). Jobs that were already started
    /// `maxAttempts` times, re-plans (their source timetable is in the memory of the instance
    /// that ran them) and jobs asked to cancel are ended instead (`failed` naming the attempts,
    /// or `cancelled`). Returns the claimed ids and how many were ended.
    func claimStale(limit: Int, maxAttempts: Int) async throws -> (claimed: [String], ended: Int) {
        guard let now = serverNow else { return ([], 0) }
        let ended = try await context.storage.execute("""
            UPDATE timetable_jobs SET finished = \(now),
                status = CASE WHEN cancel_requested = 1 THEN 'cancelled' ELSE 'failed' END,
                error = CASE WHEN cancel_requested = 1 THEN NULL
                             WHEN replan_of IS NOT NULL THEN 'interrupted: the instance running this re-plan stopped; a re-plan is not run again'
                             ELSE 'interrupted ' || attempts || ' times (the instance running it stopped each time); not run again' END
            WHERE owner <> ? AND \(leaseExpired) AND (attempts >= ? OR replan_of IS NOT NULL OR cancel_requested = 1)
            """, [.text(owner), .integer(Int64(maxAttempts))]).changes
        guard limit > 0 else { return ([], Int(ended)) }
        let claimed = try await context.storage.query("""
            UPDATE timetable_jobs SET owner = ?, heartbeat = \(now), attempts = attempts + 1, status = 'queued',
                started = NULL, finished = NULL, error = NULL, best_hard = NULL, best_soft = NULL, reported_at = NULL, updates = 0, elapsed = NULL
            WHERE id IN (SELECT id FROM timetable_jobs WHERE owner <> ? AND \(leaseExpired) AND attempts < ? AND replan_of IS NULL
                         AND cancel_requested = 0 ORDER BY seq LIMIT ? FOR UPDATE SKIP LOCKED)
              AND \(leaseExpired)
            RETURNING id
            """, [.text(owner), .text(owner), .integer(Int64(maxAttempts)), .integer(Int64(limit))]).compactMap { $0[0].text }
        return (claimed, Int(ended))
    }

    /// Ends this instance's unfinished job `id` as `failed` with `reason`, while it holds the
    /// job's lease (PostgreSQL; on SQLite, while it is unfinished). The task answers whether the
    /// end was written.
    func fail(id: String, reason: String) -> Task<Bool, Never> {
        let now = serverNow
        let condition = fenced ? leaseHeld : "status IN ('queued', 'running')"
        let parameters: [SQLValue] = (now == nil ? [.real(Date().timeIntervalSince1970)] : []) + [.text(reason), .text(id)] + (fenced ? [.text(owner)] : [])
        return enqueue("end of an unreadable job", otherwise: false) { storage -> Bool in
            try await storage.execute("""
                UPDATE timetable_jobs SET status = 'failed', finished = \(now ?? "?"), error = ? WHERE id = ? AND \(condition)
                """, parameters).changes > 0
        }
    }

    /// The stored rows of `ids` (any tenant), oldest first.
    func load(ids: [String]) async throws -> [StoredJob] {
        var rows: [StoredJob] = []
        for id in ids {
            guard let tenant = try await context.storage.query("SELECT tenant FROM timetable_jobs WHERE id = ?", [.text(id)]).first?[0].text else { continue }
            rows += try await load(id: id, tenant: tenant)
        }
        return rows.sorted { $0.sequence < $1.sequence }
    }

    /// The ids of this instance's unfinished jobs that another instance asked to cancel.
    func cancelRequests() async throws -> [String] {
        try await context.storage.query("""
            SELECT id FROM timetable_jobs WHERE owner = ? AND cancel_requested = 1 AND status IN ('queued', 'running')
            """, [.text(owner)]).compactMap { $0[0].text }
    }

    /// Waits for every write made so far.
    func flush() async {
        await tail?.value
    }

    private func enqueue(_ what: String, _ operation: @escaping @PluginActor (Storage) async throws -> Void) -> Task<Void, Never> {
        enqueue(what, otherwise: (), operation)
    }

    /// Runs `operation` after every write before it; its answer, or `otherwise` when it failed (logged).
    private func enqueue<T: Sendable>(_ what: String, otherwise: T, _ operation: @escaping @PluginActor (Storage) async throws -> T) -> Task<T, Never> {
        let previous = tail
        let context = self.context
        let task = Task { @PluginActor () -> T in
            await previous?.value
            do {
                return try await operation(context.storage)
            } catch {
                context.logger.error("timetable storage write failed", metadata: ["write": "\(what)", "error": "\(error)"])
                return otherwise
            }
        }
        tail = Task { @PluginActor in _ = await task.value }
        return task
    }
}
