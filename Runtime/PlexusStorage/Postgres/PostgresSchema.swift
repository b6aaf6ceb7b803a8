import Foundation

/// The engine's tables in a plugin schema, the migration runner, and the change-feed trigger.
extension PostgresConnection {
    /// `_plexus_kv` (keys ordered bytewise: collation "C"), `_plexus_migrations`, the change log
    /// `_plexus_changes` (one row per changed row, numbered by `seq`, kept an hour: what a listener
    /// that lost its connection catches up from), and the trigger function that logs each row
    /// change and NOTIFYs it, with its `seq`, on the channel named after the schema. The function
    /// keeps the schema's search path, so a change made by the administrator is logged too.
    static let internalTables = """
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
        CREATE INDEX IF NOT EXISTS _plexus_changes_at ON _plexus_changes(at);
        CREATE OR REPLACE FUNCTION _plexus_notify() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $plexus$
        DECLARE
            j jsonb;
            id bigint := 0;
            s bigint;
        BEGIN
            IF TG_OP = 'DELETE' THEN j := to_jsonb(OLD); ELSE j := to_jsonb(NEW); END IF;
            IF jsonb_typeof(j->'id') = 'number' THEN id := floor((j->>'id')::numeric)::bigint; END IF;
            INSERT INTO _plexus_changes (tx, tbl, op, row_id) VALUES (txid_current(), TG_TABLE_NAME, lower(TG_OP), id) RETURNING seq INTO s;
            PERFORM pg_notify(TG_TABLE_SCHEMA, json_build_object(
                'x', txid_current(), 't', TG_TABLE_NAME, 'o', lower(TG_OP), 'r', id, 's', s)::text);
            RETURN NULL;
        END
        $plexus$;
        """

    /// Creates the engine's tables once per schema (serialized across instances by an advisory lock).
    func createInternalTables() throws(StorageError) {
        try atomically { () throws(StorageError) in
            _ = try run("SELECT pg_advisory_xact_lock(hashtext($1::text))", [.text("plexus-schema:" + schema)], translate: false)
            try runScript(Self.internalTables)
            try installChangeTriggers()
        }
    }

    /// Puts the change trigger on every table of the schema that lacks it (not `_plexus_*`).
    func installChangeTriggers() throws(StorageError) {
        try runScript("""
            DO $plexus$
            DECLARE t record;
            BEGIN
                FOR t IN
                    SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
                      AND left(c.relname, 8) <> '_plexus_'
                      AND NOT EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = c.oid AND g.tgname = '_plexus_changes')
                LOOP
                    EXECUTE format('CREATE TRIGGER _plexus_changes AFTER INSERT OR UPDATE OR DELETE ON %I '
                                   'FOR EACH ROW EXECUTE FUNCTION _plexus_notify()', t.relname);
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
