import Foundation

/// The engine's tables in a plugin schema, the migration runner, and the change-feed trigger.
extension PostgresConnection {
    /// `_plexus_kv` (keys ordered bytewise: collation "C"), `_plexus_migrations`, the change log
    /// `_plexus_changes` (one row per changed row, numbered by `seq`, kept an hour: what a listener
    /// that lost its connection catches up from), and the trigger function that logs each
    /// statement's changed rows and NOTIFYs each of them, with its `seq`, on the channel named
    /// after the schema. The functions name the schema's tables in full (no `SET search_path` on
    /// the function: that cost about 6 us a call), so a change made by the administrator is
    /// logged too.
    ///
    /// The triggers are statement-level with transition tables (one log INSERT of all the
    /// statement's rows, not one function call and INSERT per row): each row is still logged and
    /// notified once, in order. A bulk insert of 20,000 rows ran at about 1.7x the rows/s of the
    /// row-level trigger (2.1x for an update of all of them); single-row statements cost about
    /// the same (measured with psql on PostgreSQL 15 under load 15, noisy).
    ///
    /// Each trigger call is one query (the log INSERT and the NOTIFYs in one statement; a statement
    /// that changed no row logs and notifies nothing), and the pruning clock is read once per
    /// transaction, not once per statement (a transaction-local setting, `plexus.prune_looked`,
    /// remembers it was read). With pgbench, a transaction of four single-row writes and a join
    /// took (10th percentile, load 4 to 8): 270 us without triggers, 320 us with empty ones,
    /// about 500 us with the earlier function and about 450 us with this one.
    ///
    /// Whichever transaction writes prunes the log (``pruneFunction``): at most once a minute per
    /// schema, at most 10,000 rows older than an hour, never waiting for another pruner; so does
    /// every engine at start. A schema nobody listens to does not grow without bound.
    static func internalTables(schema: String) -> String {
        let s = "\"\(schema)\""
        return """
            CREATE TABLE IF NOT EXISTS _plexus_kv (
                key TEXT COLLATE "C" PRIMARY KEY NOT NULL,
                value BYTEA NOT NULL,
                version BIGINT NOT NULL,
                expires_at DOUBLE PRECISION
            );
            CREATE INDEX IF NOT EXISTS _plexus_kv_expiry ON _plexus_kv(expires_at) WHERE expires_at IS NOT NULL;
            CREATE TABLE IF NOT EXISTS _plexus_migrations (
                version INTEGER PRIMARY KEY,
                checksum TEXT NOT NULL,
                applied_at DOUBLE PRECISION NOT NULL
            );
            CREATE TABLE IF NOT EXISTS _plexus_changes (
                seq BIGSERIAL PRIMARY KEY,
                tx BIGINT NOT NULL,
                tbl TEXT NOT NULL,
                op TEXT NOT NULL,
                row_id BIGINT NOT NULL,
                at DOUBLE PRECISION NOT NULL DEFAULT extract(epoch FROM clock_timestamp())
            );
            -- Pruning reads the oldest rows by seq; an index on "at" (earlier versions) only cost every write.
            DROP INDEX IF EXISTS _plexus_changes_at;
            CREATE TABLE IF NOT EXISTS _plexus_changes_pruned (
                singleton BOOLEAN PRIMARY KEY DEFAULT true CHECK (singleton),
                at DOUBLE PRECISION NOT NULL
            );
            INSERT INTO _plexus_changes_pruned (at) VALUES (0) ON CONFLICT DO NOTHING;
            \(pruneFunction(schema: schema))
            CREATE OR REPLACE FUNCTION \(s)._plexus_log_changes() RETURNS trigger LANGUAGE plpgsql AS $plexus$
            DECLARE
                x bigint := txid_current();
                n bigint;
                looked text;
            BEGIN
                -- One query logs the statement's rows and notifies each; no row changed, nothing logged (n = 0).
                IF TG_OP = 'DELETE' THEN
                    WITH logged AS (
                        INSERT INTO \(s)._plexus_changes (tx, tbl, op, row_id)
                        SELECT x, TG_TABLE_NAME, 'delete', CASE WHEN jsonb_typeof(j->'id') = 'number' THEN floor((j->>'id')::numeric)::bigint ELSE 0 END
                        FROM (SELECT to_jsonb(r) AS j FROM old_rows r) changed RETURNING seq, row_id)
                    SELECT count(pg_notify(TG_TABLE_SCHEMA, json_build_object('x', x, 't', TG_TABLE_NAME, 'o', 'delete', 'r', l.row_id, 's', l.seq)::text))
                    INTO n FROM (SELECT * FROM logged ORDER BY seq) l;
                ELSE
                    WITH logged AS (
                        INSERT INTO \(s)._plexus_changes (tx, tbl, op, row_id)
                        SELECT x, TG_TABLE_NAME, lower(TG_OP), CASE WHEN jsonb_typeof(j->'id') = 'number' THEN floor((j->>'id')::numeric)::bigint ELSE 0 END
                        FROM (SELECT to_jsonb(r) AS j FROM new_rows r) changed RETURNING seq, row_id)
                    SELECT count(pg_notify(TG_TABLE_SCHEMA, json_build_object('x', x, 't', TG_TABLE_NAME, 'o', lower(TG_OP), 'r', l.row_id, 's', l.seq)::text))
                    INTO n FROM (SELECT * FROM logged ORDER BY seq) l;
                END IF;
                -- The pruning clock is read once per transaction that logged something (the setting is transaction-local).
                IF n > 0 AND current_setting('plexus.prune_looked', true) IS DISTINCT FROM (x::text || TG_TABLE_SCHEMA) THEN
                    looked := set_config('plexus.prune_looked', x::text || TG_TABLE_SCHEMA, true);
                    IF (SELECT at FROM \(s)._plexus_changes_pruned) <= extract(epoch FROM clock_timestamp()) - \(pruneInterval) THEN
                        PERFORM \(s)._plexus_prune_changes();
                    END IF;
                END IF;
                RETURN NULL;
            END
            $plexus$;
            """
    }

    /// How long `_plexus_changes` keeps a change (s), how often it is pruned (s), and how many
    /// rows one pruning deletes at most.
    static let changeRetention = 3600
    static let pruneInterval = 60
    static let pruneBatch = 10_000

    /// `_plexus_prune_changes()`: deletes those of the ``pruneBatch`` oldest logged changes (by
    /// `seq`) that are older than ``changeRetention``, unless the schema was pruned less than
    /// ``pruneInterval`` ago or another transaction is pruning it now (a try-lock: a writer never
    /// waits for it).
    static func pruneFunction(schema: String) -> String {
        let s = "\"\(schema)\""
        return """
            CREATE OR REPLACE FUNCTION \(s)._plexus_prune_changes() RETURNS void LANGUAGE plpgsql AS $plexus$
            DECLARE
                now double precision := extract(epoch FROM clock_timestamp());
            BEGIN
                IF (SELECT at FROM \(s)._plexus_changes_pruned) > now - \(pruneInterval) THEN RETURN; END IF;
                IF NOT pg_try_advisory_xact_lock(hashtext('plexus-prune:' || \(quoted(schema)))) THEN RETURN; END IF;
                UPDATE \(s)._plexus_changes_pruned SET at = now;
                DELETE FROM \(s)._plexus_changes WHERE seq IN (
                    SELECT seq FROM (SELECT seq, at FROM \(s)._plexus_changes ORDER BY seq LIMIT \(pruneBatch)) oldest
                    WHERE at < now - \(changeRetention));
            END
            $plexus$;
            """
    }

    /// `text` as a SQL string literal.
    static func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }

    /// Creates the engine's tables once per schema (serialized across instances by an advisory lock).
    func createInternalTables() throws(StorageError) {
        try atomically { () throws(StorageError) in
            _ = try run("SELECT pg_advisory_xact_lock(hashtext($1::text))", [.text("plexus-schema:" + schema)], translate: false)
            try runScript(Self.internalTables(schema: schema))
            try runScript(Self.changeGate(schema: schema))
            try installChangeTriggers()
        }
        // Every engine prunes the change log at start too (bounded, at most once a minute per
        // schema). Maintenance only: a failure (a statement timeout, a lock) does not fail the
        // open; the next transaction that writes to the schema prunes it instead.
        _ = try? runScript("SELECT _plexus_prune_changes()")
        // And disables the change triggers if nobody listens (an instance that crashed while
        // listening, or a database from before the triggers were gated); maintenance too.
        try? leaveChanges(as: nil)
    }

    /// Puts the change triggers on every table of the schema that lacks them (not `_plexus_*`),
    /// disabled unless some listener holds a lease (under the feed lock, see `PostgresChangeGate.swift`):
    /// three statement-level triggers (transition tables allow one event per trigger). A table
    /// with the row-level trigger of earlier versions (`_plexus_changes`, FOR EACH ROW) gets the
    /// new ones instead; the insert trigger keeps that name, so an older version's check still
    /// finds it and adds no second one.
    func installChangeTriggers() throws(StorageError) {
        try runScript("""
            DO $plexus$
            DECLARE t record; locked boolean := false;
            BEGIN
                FOR t IN
                    SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
                      AND left(c.relname, 8) <> '_plexus_'
                      AND (SELECT count(*) FROM pg_trigger g WHERE g.tgrelid = c.oid AND (g.tgtype & 1) = 0
                           AND g.tgname IN ('_plexus_changes', '_plexus_changes_update', '_plexus_changes_delete')) < 3
                LOOP
                    IF NOT locked THEN
                        -- The feed lock: a listener enabling the triggers now sees this table once it is committed.
                        PERFORM pg_advisory_xact_lock(\(Self.feedLock(schema)));
                        locked := true;
                    END IF;
                    EXECUTE format('DROP TRIGGER IF EXISTS _plexus_changes ON %I', t.relname);
                    EXECUTE format('DROP TRIGGER IF EXISTS _plexus_changes_update ON %I', t.relname);
                    EXECUTE format('DROP TRIGGER IF EXISTS _plexus_changes_delete ON %I', t.relname);
                    EXECUTE format('CREATE TRIGGER _plexus_changes AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows '
                                   'FOR EACH STATEMENT EXECUTE FUNCTION _plexus_log_changes()', t.relname);
                    EXECUTE format('CREATE TRIGGER _plexus_changes_update AFTER UPDATE ON %I REFERENCING NEW TABLE AS new_rows '
                                   'FOR EACH STATEMENT EXECUTE FUNCTION _plexus_log_changes()', t.relname);
                    EXECUTE format('CREATE TRIGGER _plexus_changes_delete AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows '
                                   'FOR EACH STATEMENT EXECUTE FUNCTION _plexus_log_changes()', t.relname);
                    -- Nobody listens: the table logs nothing until someone does (see PostgresChangeGate.swift).
                    IF NOT EXISTS (SELECT 1 FROM _plexus_listeners) THEN
                        EXECUTE format('ALTER TABLE %I DISABLE TRIGGER _plexus_changes, DISABLE TRIGGER _plexus_changes_update, '
                                       'DISABLE TRIGGER _plexus_changes_delete', t.relname);
                    END IF;
                END LOOP;
            END
            $plexus$;
            """)
    }

    /// Validates the list against `_plexus_migrations`, then applies the missing ones in order,
    /// each in its own transaction with its record, under an advisory lock so that two instances
    /// starting together apply each migration once. Runs `Migration.sql(for: .postgresql)`.
    func migrate(_ migrations: [Migration]) throws(StorageError) -> [Int] {
        let sorted = try Migration.validatedOrder(migrations)
        var ran: [Int] = []
        for migration in sorted {
            do {
                let applied = try atomically { () throws(StorageError) -> Bool in
                    _ = try run("SELECT pg_advisory_xact_lock(hashtext($1::text))", [.text("plexus-migrate:" + schema)], translate: false)
                    let recorded = try run("SELECT version, checksum FROM _plexus_migrations ORDER BY version", [], translate: false)
                    var applied: [Int: String] = [:]
                    for row in recorded.result.rows { applied[Int(row[0].integerValue ?? 0)] = row[1].textValue ?? "" }
                    try Migration.checkRecorded(applied, against: sorted, dialect: .postgresql)
                    if applied[migration.version] != nil { return false }
                    try runScript(migration.sql(for: .postgresql))
                    _ = try run(
                        "INSERT INTO _plexus_migrations (version, checksum, applied_at) VALUES ($1, $2, $3)",
                        [.integer(Int64(migration.version)), .text(migration.checksum(for: .postgresql)),
                         .real(Date().timeIntervalSince1970)], translate: false)
                    try installChangeTriggers()
                    return true
                }
                if applied { ran.append(migration.version) }
            } catch where error.kind == .invalidMigration {
                throw error
            } catch {
                throw StorageError(
                    error.kind, "migration \(migration.version) failed and was rolled back: \(error.message)", sqlState: error.sqlState)
            }
        }
        return ran
    }
}
