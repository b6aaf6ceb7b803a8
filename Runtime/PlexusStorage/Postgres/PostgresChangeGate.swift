import Foundation

/// The change log runs only while someone listens (issue 21): even empty statement triggers cost
/// a write about 1.2x, the logging ones 1.5x to 2.3x of raw libpq, so the change-log triggers of
/// a plugin's tables are enabled only while some engine (of any instance on the database) has
/// asked for its changes, and disabled when none is left.
///
/// - `_plexus_listeners` holds one row per listening engine with its lease (`until`, by the
///   server's clock). An engine renews its lease at every check (``StorageConfiguration/changeListenerCheckInterval``);
///   the lease (``StorageConfiguration/changeListenerLease``, an hour by default: as long as the
///   log keeps changes for a catch-up) outlives a listener that lost its connection for as long
///   as its catch-up could still find what it missed.
/// - `_plexus_feed_listen(who, lease)` records the lease and enables every disabled change trigger;
///   `_plexus_feed_leave(who)` removes it (NULL: only the expired ones) and, when no live lease is
///   left, disables them. Both take the schema's feed lock (an advisory lock) first, so an
///   enabling and a disabling never interleave; `ALTER TABLE … ENABLE TRIGGER` takes a lock that
///   waits for the writers in flight, so every transaction that commits after the enabling
///   commit is logged whole.
/// - Both wait at most ``lockTimeoutMilliseconds`` for a table's lock (then the caller tries
///   again): a writer that holds one table and wants another never waits behind them for long.
/// - A table created while someone listens gets enabled triggers; otherwise disabled ones
///   (``PostgresConnection/installChangeTriggers()`` takes the same lock).
extension PostgresConnection {
    /// How long the feed functions wait for one table's lock before giving up (and being retried).
    static let lockTimeoutMilliseconds = 300
    /// How often a feed function that gave up on a lock is run, in all.
    static let feedAttempts = 20

    /// The advisory lock key of `schema`'s feed, as a SQL expression.
    static func feedLock(_ schema: String) -> String { "hashtext(\(quoted("plexus-feed:" + schema)))" }

    /// The listeners' table and the three feed functions.
    static func changeGate(schema: String) -> String {
        let s = "\"\(schema)\""
        let triggers = "('_plexus_changes', '_plexus_changes_update', '_plexus_changes_delete')"
        return """
            CREATE TABLE IF NOT EXISTS _plexus_listeners (
                listener TEXT PRIMARY KEY NOT NULL,
                until DOUBLE PRECISION NOT NULL
            );
            CREATE OR REPLACE FUNCTION \(s)._plexus_set_change_triggers(enable boolean) RETURNS integer LANGUAGE plpgsql AS $plexus$
            DECLARE t record; n integer := 0;
            BEGIN
                FOR t IN
                    SELECT c.relname, g.tgname FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
                    WHERE c.relnamespace = \(quoted(schema))::regnamespace AND g.tgname IN \(triggers)
                      AND (g.tgenabled = 'D') = enable
                    ORDER BY c.relname, g.tgname
                LOOP
                    EXECUTE format('ALTER TABLE %I.%I %s TRIGGER %I', \(quoted(schema)), t.relname,
                                   CASE WHEN enable THEN 'ENABLE' ELSE 'DISABLE' END, t.tgname);
                    n := n + 1;
                END LOOP;
                RETURN n;
            END
            $plexus$;
            CREATE OR REPLACE FUNCTION \(s)._plexus_feed_listen(who text, lease double precision) RETURNS integer LANGUAGE plpgsql AS $plexus$
            BEGIN
                PERFORM pg_advisory_xact_lock(\(feedLock(schema)));
                PERFORM set_config('lock_timeout', '\(lockTimeoutMilliseconds)ms', true);
                INSERT INTO \(s)._plexus_listeners (listener, until) VALUES (who, extract(epoch FROM clock_timestamp()) + lease)
                    ON CONFLICT (listener) DO UPDATE SET until = excluded.until;
                RETURN \(s)._plexus_set_change_triggers(true);
            END
            $plexus$;
            CREATE OR REPLACE FUNCTION \(s)._plexus_feed_leave(who text) RETURNS integer LANGUAGE plpgsql AS $plexus$
            BEGIN
                PERFORM pg_advisory_xact_lock(\(feedLock(schema)));
                PERFORM set_config('lock_timeout', '\(lockTimeoutMilliseconds)ms', true);
                DELETE FROM \(s)._plexus_listeners WHERE listener = who OR until <= extract(epoch FROM clock_timestamp());
                IF EXISTS (SELECT 1 FROM \(s)._plexus_listeners) THEN RETURN 0; END IF;
                RETURN -\(s)._plexus_set_change_triggers(false);
            END
            $plexus$;
            """
    }

    /// Records (or renews) `listener`'s lease of `lease` seconds and enables the change triggers;
    /// returns when that is committed. A lock wait that gave up is tried again.
    func listenForChanges(as listener: String, lease: Double) throws(StorageError) {
        try retryingLocks { () throws(StorageError) in
            _ = try run("SELECT _plexus_feed_listen($1::text, $2::float8)", [.text(listener), .real(lease)], translate: false)
        }
    }

    /// Removes `listener`'s lease (nil: only the expired ones) and, when no live lease is left,
    /// disables the change triggers.
    func leaveChanges(as listener: String?) throws(StorageError) {
        try retryingLocks { () throws(StorageError) in
            _ = try run("SELECT _plexus_feed_leave($1::text)", [listener.map { StorageValue.text($0) } ?? StorageValue.null], translate: false)
        }
    }

    /// Runs `body` again (up to ``feedAttempts`` in all, with a growing pause) while it fails on a
    /// lock it gave up waiting for, or a deadlock the server broke.
    private func retryingLocks(_ body: () throws(StorageError) -> Void) throws(StorageError) {
        var attempt = 1
        while true {
            do throws(StorageError) {
                return try body()
            } catch where (error.sqlState == "55P03" || error.sqlState == "40P01") && attempt < Self.feedAttempts {
                rollbackIfNeeded()
                usleep(useconds_t(min(attempt, 10) * 20_000))
                attempt += 1
            }
        }
    }
}
