import Foundation
import PlexusSDK
import WorkflowEngine

/// The plugin's tables: definitions (per tenant, versioned), instances, and each instance's
/// append-only history. Every write goes through the plugin's storage (SQLite, or PostgreSQL
/// shared by every instance; the statements are valid on both).
@PluginActor
final class WorkflowStore {
    let storage: Storage
    /// This plugin instance's id: the owner of the workflow instances it runs (several plexus
    /// instances share one PostgreSQL database; each runs the instances it started or claimed).
    let owner = UUID().uuidString.lowercased()

    init(storage: Storage) { self.storage = storage }

    /// One statement per migration. SQLite's text, and PostgreSQL's where it differs: INTEGER is
    /// 32-bit there (millisecond times need BIGINT), REAL is single precision.
    static let migrations: [SQLMigration] = [
        SQLMigration(version: 1, sql: "CREATE TABLE definitions (tenant TEXT NOT NULL, name TEXT NOT NULL, version INTEGER NOT NULL, body TEXT NOT NULL, created INTEGER NOT NULL, PRIMARY KEY (tenant, name, version))",
                     postgresql: "CREATE TABLE definitions (tenant TEXT NOT NULL, name TEXT NOT NULL, version BIGINT NOT NULL, body TEXT NOT NULL, created BIGINT NOT NULL, PRIMARY KEY (tenant, name, version))"),
        SQLMigration(version: 2, sql: "CREATE TABLE instances (id TEXT PRIMARY KEY, tenant TEXT NOT NULL, workflow TEXT NOT NULL, version INTEGER NOT NULL, status TEXT NOT NULL, idempotency_key TEXT, parent TEXT, parent_step TEXT, created INTEGER NOT NULL, updated INTEGER NOT NULL)",
                     postgresql: "CREATE TABLE instances (id TEXT PRIMARY KEY, tenant TEXT NOT NULL, workflow TEXT NOT NULL, version BIGINT NOT NULL, status TEXT NOT NULL, idempotency_key TEXT, parent TEXT, parent_step TEXT, created BIGINT NOT NULL, updated BIGINT NOT NULL)"),
        SQLMigration(version: 3, sql: "CREATE UNIQUE INDEX instances_by_key ON instances (tenant, workflow, idempotency_key)"),
        SQLMigration(version: 4, sql: "CREATE INDEX instances_by_status ON instances (status)"),
        SQLMigration(version: 5, sql: "CREATE TABLE history (instance TEXT NOT NULL, seq INTEGER NOT NULL, entry TEXT NOT NULL, PRIMARY KEY (instance, seq))",
                     postgresql: "CREATE TABLE history (instance TEXT NOT NULL, seq BIGINT NOT NULL, entry TEXT NOT NULL, PRIMARY KEY (instance, seq))"),
        SQLMigration(version: 6, sql: "CREATE TABLE rules (name TEXT PRIMARY KEY, body TEXT NOT NULL, updated INTEGER NOT NULL)",
                     postgresql: "CREATE TABLE rules (name TEXT PRIMARY KEY, body TEXT NOT NULL, updated BIGINT NOT NULL)"),
        SQLMigration(version: 7, sql: "CREATE TABLE rule_keys (rule TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL, tokens REAL, at INTEGER NOT NULL, PRIMARY KEY (rule, kind, key))",
                     postgresql: "CREATE TABLE rule_keys (rule TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL, tokens DOUBLE PRECISION, at BIGINT NOT NULL, PRIMARY KEY (rule, kind, key))"),
        SQLMigration(version: 8, sql: "CREATE TABLE rule_batches (rule TEXT NOT NULL, batch INTEGER NOT NULL, key TEXT NOT NULL, seq INTEGER NOT NULL, opened INTEGER NOT NULL, item TEXT NOT NULL, PRIMARY KEY (rule, batch, seq))",
                     postgresql: "CREATE TABLE rule_batches (rule TEXT NOT NULL, batch BIGINT NOT NULL, key TEXT NOT NULL, seq BIGINT NOT NULL, opened BIGINT NOT NULL, item TEXT NOT NULL, PRIMARY KEY (rule, batch, seq))"),
        // The plexus instance running each workflow instance, and its last sign of life (ms).
        SQLMigration(version: 9, sql: "ALTER TABLE instances ADD COLUMN owner TEXT NOT NULL DEFAULT ''"),
        SQLMigration(version: 10, sql: "ALTER TABLE instances ADD COLUMN heartbeat INTEGER", postgresql: "ALTER TABLE instances ADD COLUMN heartbeat BIGINT"),
        // The lease fence (PostgreSQL): ``fence(_:)`` sets it to 1 when this owner no longer holds
        // the instance's lease, and the check fails the whole history commit.
        SQLMigration(version: 11, sql: "ALTER TABLE instances ADD COLUMN lease_lost INTEGER NOT NULL DEFAULT 0 CONSTRAINT instances_lease_held CHECK (lease_lost = 0)"),
    ]

    /// On PostgreSQL: how long after its owner's last heartbeat an unfinished instance may be
    /// claimed by another plexus instance at its start (ms), and how often owners beat.
    static let staleAfterMilliseconds: Int64 = 15_000
    static let heartbeatInterval: Duration = .seconds(2)

    /// The clock leases are stamped and judged by (ms): on PostgreSQL the database server's, so
    /// plexus instances on machines whose clocks differ agree; on SQLite (one instance) `now`.
    private func clock(_ now: Int64) -> (sql: String, values: [SQLValue]) {
        storage.dialect == .postgresql ? ("(extract(epoch FROM clock_timestamp()) * 1000)::bigint", []) : ("?", [.integer(now)])
    }

    /// Renews the leases this plexus instance still holds: its unfinished workflow instances whose
    /// lease has not expired by the database server's clock (an expired lease is not renewed:
    /// another instance may have claimed it, or may at any moment). Returns the ids renewed.
    /// The rows are locked in byte order of their ids, the order a history commit fences them in
    /// (``fence(_:)``), so the two never wait for each other in a cycle (a deadlock).
    func heartbeat(now: Int64) async throws -> Set<String> {
        let time = clock(now)
        return Set(try await storage.query("""
            UPDATE instances SET heartbeat = \(time.sql)
            WHERE id IN (SELECT id FROM instances
                         WHERE owner = ? AND status IN ('running', 'compensating') AND heartbeat >= \(time.sql) - \(Self.staleAfterMilliseconds)
                         ORDER BY id COLLATE "C" FOR UPDATE)
            RETURNING id
            """, time.values + [.text(owner)] + time.values).compactMap { $0[0].text })
    }

    /// Takes over an unfinished instance whose lease expired (no heartbeat for
    /// ``staleAfterMilliseconds``, or none recorded): its owner is gone, or cut off, and fenced
    /// out of every further write (``fence(_:)``). Also this instance's own expired leases (it
    /// stopped running them locally when it lost them). False when a live lease holds it, or
    /// another plexus instance claimed it first.
    func claim(_ id: String, now: Int64) async throws -> Bool {
        let time = clock(now)
        return try await storage.execute("""
            UPDATE instances SET owner = ?, heartbeat = \(time.sql)
            WHERE id = ? AND status IN ('running', 'compensating') AND (owner = '' OR heartbeat IS NULL OR heartbeat < \(time.sql) - \(Self.staleAfterMilliseconds))
            """, [.text(owner)] + time.values + [.text(id)] + time.values).changes == 1
    }

    /// The statement that fences a history commit (PostgreSQL): it fails the transaction, with a
    /// check violation of `instances_lease_held`, unless this plexus instance still owns
    /// `instance` and its lease has not expired by the server's clock. It also locks the row, so a
    /// claim waits for the commit to end.
    func fence(_ instance: String) -> (sql: String, parameters: [SQLValue]) {
        let time = clock(0)
        return ("""
            UPDATE instances SET lease_lost = CASE WHEN owner = ? AND heartbeat >= \(time.sql) - \(Self.staleAfterMilliseconds) THEN 0 ELSE 1 END
            WHERE id = ?
            """, [.text(owner)] + time.values + [.text(instance)])
    }

    /// Which of `ids` this plexus instance still holds a live lease on (after a failed commit:
    /// those it lost are dropped, the others retried).
    func held(_ ids: [String]) async throws -> Set<String> {
        guard !ids.isEmpty else { return [] }
        let time = clock(0)
        let marks = Array(repeating: "?", count: ids.count).joined(separator: ", ")
        return Set(try await storage.query("""
            SELECT id FROM instances WHERE id IN (\(marks)) AND owner = ? AND heartbeat >= \(time.sql) - \(Self.staleAfterMilliseconds)
            """, ids.map(SQLValue.text) + [.text(owner)] + time.values).compactMap { $0[0].text })
    }

    func migrate() async throws { try await storage.migrate(Self.migrations) }

    // MARK: Definitions

    /// The newest version of `name` for `tenant` (falling back to the shipped ones, tenant ""), with its body.
    func latestDefinition(tenant: String, name: String) async throws -> (tenant: String, version: Int, body: String)? {
        for owner in tenant.isEmpty ? [""] : [tenant, ""] {
            let rows = try await storage.query("SELECT version, body FROM definitions WHERE tenant = ? AND name = ? ORDER BY version DESC LIMIT 1",
                                               [.text(owner), .text(name)])
            if let row = rows.first, let version = row[0].integer, let body = row[1].text { return (owner, Int(version), body) }
        }
        return nil
    }

    /// The body of one version.
    func definition(tenant: String, name: String, version: Int) async throws -> String? {
        try await storage.query("SELECT body FROM definitions WHERE tenant = ? AND name = ? AND version = ?",
                                [.text(tenant), .text(name), .integer(Int64(version))]).first?[0].text
    }

    /// Stores `body` as the next version of `name` for `tenant` (or returns the current version when the body is the same).
    /// Two instances on one PostgreSQL database may pick the same number (both loading the shipped
    /// definitions at start, say): the primary key refuses the second, which reads again.
    func putDefinition(tenant: String, name: String, body: String, now: Int64) async throws -> (version: Int, created: Bool) {
        var attempt = 1
        while true {
            let rows = try await storage.query("SELECT version, body FROM definitions WHERE tenant = ? AND name = ? ORDER BY version DESC LIMIT 1",
                                               [.text(tenant), .text(name)])
            if let row = rows.first, row[1].text == body { return (Int(row[0].integer ?? 1), false) }
            let version = Int(rows.first?[0].integer ?? 0) + 1
            do {
                try await storage.execute("INSERT INTO definitions (tenant, name, version, body, created) VALUES (?, ?, ?, ?, ?)",
                                          [.text(tenant), .text(name), .integer(Int64(version)), .text(body), .integer(now)])
                return (version, true)
            } catch let failure as StorageFailure where failure.kind == .constraint && attempt < 5 {
                attempt += 1
            }
        }
    }

    /// The names and newest versions visible to `tenant`.
    func definitions(tenant: String) async throws -> [(tenant: String, name: String, version: Int)] {
        try await storage.query("SELECT tenant, name, MAX(version) FROM definitions WHERE tenant IN (?, '') GROUP BY tenant, name ORDER BY name",
                                [.text(tenant)]).map { ($0[0].text ?? "", $0[1].text ?? "", Int($0[2].integer ?? 0)) }
    }

    // MARK: Instances

    /// The statement that creates an instance row.
    func insertInstance(_ row: InstanceRow) -> (sql: String, parameters: [SQLValue]) {
        let time = clock(row.created)
        return ("INSERT INTO instances (id, tenant, workflow, version, status, idempotency_key, parent, parent_step, created, updated, owner, heartbeat) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, \(time.sql))",
                [.text(row.id), .text(row.tenant), .text(row.workflow), .integer(Int64(row.version)), .text(row.status),
                 row.idempotencyKey.map(SQLValue.text) ?? .null, row.parent.map(SQLValue.text) ?? .null, row.parentStep.map(SQLValue.text) ?? .null,
                 .integer(row.created), .integer(row.created), .text(owner)] + time.values)
    }

    /// The statement that appends entry `seq` of `instance`.
    func insertEntry(_ instance: String, _ seq: Int, _ event: HistoryEvent) -> (sql: String, parameters: [SQLValue]) {
        ("INSERT INTO history (instance, seq, entry) VALUES (?, ?, ?)", [.text(instance), .integer(Int64(seq)), .text(event.text)])
    }

    /// The statement that sets an instance's status.
    func updateStatus(_ instance: String, _ status: String, now: Int64) -> (sql: String, parameters: [SQLValue]) {
        ("UPDATE instances SET status = ?, updated = ? WHERE id = ?", [.text(status), .integer(now), .text(instance)])
    }

    func instance(id: String) async throws -> InstanceRow? {
        try await storage.query("SELECT id, tenant, workflow, version, status, idempotency_key, parent, parent_step, created FROM instances WHERE id = ?",
                                [.text(id)]).first.map(InstanceRow.init)
    }

    func instance(tenant: String, workflow: String, idempotencyKey: String) async throws -> InstanceRow? {
        try await storage.query("SELECT id, tenant, workflow, version, status, idempotency_key, parent, parent_step, created FROM instances WHERE tenant = ? AND workflow = ? AND idempotency_key = ?",
                                [.text(tenant), .text(workflow), .text(idempotencyKey)]).first.map(InstanceRow.init)
    }

    /// The newest 100 instances of `tenant`, of one workflow if named.
    func instances(tenant: String, workflow: String?) async throws -> [InstanceRow] {
        try await storage.query("SELECT id, tenant, workflow, version, status, idempotency_key, parent, parent_step, created FROM instances WHERE tenant = ? AND (? = '' OR workflow = ?) ORDER BY created DESC LIMIT 100",
                                [.text(tenant), .text(workflow ?? ""), .text(workflow ?? "")]).map(InstanceRow.init)
    }

    /// Instances not over yet (to resume after a restart or crash).
    func unfinished() async throws -> [InstanceRow] {
        try await storage.query("SELECT id, tenant, workflow, version, status, idempotency_key, parent, parent_step, created FROM instances WHERE status IN ('running', 'compensating') ORDER BY created",
                                []).map(InstanceRow.init)
    }

    func history(_ instance: String) async throws -> [HistoryEvent] {
        try await storage.query("SELECT entry FROM history WHERE instance = ? ORDER BY seq", [.text(instance)]).compactMap { row in
            row[0].text.flatMap(JSON.parse).flatMap(HistoryEvent.init(json:))
        }
    }

    func transaction(_ statements: [(sql: String, parameters: [SQLValue])]) async throws {
        try await storage.transaction(statements)
    }

    // MARK: Rules

    func rules() async throws -> [(name: String, body: String)] {
        try await storage.query("SELECT name, body FROM rules ORDER BY name", []).map { ($0[0].text ?? "", $0[1].text ?? "") }
    }

    func putRule(_ name: String, _ body: String, now: Int64) async throws {
        try await storage.execute("INSERT INTO rules (name, body, updated) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET body = excluded.body, updated = excluded.updated",
                                  [.text(name), .text(body), .integer(now)])
    }

    func deleteRule(_ name: String) async throws -> Bool {
        try await storage.execute("DELETE FROM rules WHERE name = ?", [.text(name)]).changes > 0
    }
}

/// A write about a workflow instance was refused because this plexus instance no longer holds
/// its lease (another one took it over, or the lease expired by the database server's clock);
/// the instance stopped running here.
struct LeaseLost: HTTPResponseError, CustomStringConvertible {
    let instance: String
    var status: Int { 409 }
    var title: String { "Conflict" }
    var detail: String { "instance '\(instance)' is run by another plexus instance now (this one lost its lease); send it there, or again in a few seconds" }
    var description: String { "lease lost on workflow instance \(instance)" }
}

/// One row of `instances`.
struct InstanceRow: Sendable {
    var id: String
    var tenant: String
    var workflow: String
    var version: Int
    var status: String
    var idempotencyKey: String?
    var parent: String?
    var parentStep: String?
    var created: Int64

    init(id: String, tenant: String, workflow: String, version: Int, status: String, idempotencyKey: String?, parent: String?, parentStep: String?, created: Int64) {
        self.id = id
        self.tenant = tenant
        self.workflow = workflow
        self.version = version
        self.status = status
        self.idempotencyKey = idempotencyKey
        self.parent = parent
        self.parentStep = parentStep
        self.created = created
    }

    init(_ row: SQLRow) {
        self.init(id: row[0].text ?? "", tenant: row[1].text ?? "", workflow: row[2].text ?? "", version: Int(row[3].integer ?? 0),
                  status: row[4].text ?? "", idempotencyKey: row[5].text, parent: row[6].text, parentStep: row[7].text, created: row[8].integer ?? 0)
    }
}
