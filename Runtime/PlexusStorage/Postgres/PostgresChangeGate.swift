import Foundation

/// The change log runs only while someone listens (issue 21): even empty statement triggers cost
/// a write about 1.2x, the logging ones 1.5x to 2.3x of raw libpq, so the change-log triggers of
/// a plugin's tables are enabled only while some engine (of any instance on the database) has
/// asked for its changes, and disabled when none is left.
///
/// - `_plexus_listeners` holds one row per listening engine with its lease (`until`, by the
///   server's clock, or ``StorageConfiguration/changeListenerClock`` in tests). An engine renews
///   its lease at every check (``StorageConfiguration/changeListenerCheckInterval``, 30 s); the
///   lease (``StorageConfiguration/changeListenerLease``) is four renewals, 2 minutes.
/// - A lease that ran out is removed only when its engine's LISTEN session is gone too: that
///   connection holds a session advisory lock named after the listener (``listenerLock(_:)``)
///   and the expiry check takes it with `pg_try_advisory_xact_lock` first. So a live engine whose
///   renewal is late (a stalled thread, a slow database) keeps its lease and its log, and no write
///   goes unlogged; an instance that crashed (its sockets close, the server ends its session)
///   loses its lease once it runs out. A listener that lost its connection for longer than the
///   lease may have its lease removed; its next renewal records it again and enables the
///   triggers, and its catch-up reads what was logged meanwhile.
/// - `_plexus_feed_listen(who, lease, at_time)` records the lease and enables every disabled change
///   trigger; `_plexus_feed_leave(who, at_time)` removes it (NULL: only the expired ones whose
///   session is gone) and, when no lease is left, disables them (`at_time` NULL: the server's
///   clock). Both take the schema's feed lock (an advisory lock) first, so an
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

    /// The two keys of the session advisory lock a listener's LISTEN connection holds while it is
    /// connected (`listener`: a SQL expression), as SQL: the expiry check removes a lease that
    /// ran out only when it can take this lock (the listener's session is gone).
    static func listenerLock(_ listener: String) -> String { "hashtext('plexus-listener'), hashtext(\(listener))" }

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
            CREATE OR REPLACE FUNCTION \(s)._plexus_feed_listen(who text, lease double precision, at_time double precision) RETURNS integer LANGUAGE plpgsql AS $plexus$
            BEGIN
                PERFORM pg_advisory_xact_lock(\(feedLock(schema)));
                PERFORM set_config('lock_timeout', '\(lockTimeoutMilliseconds)ms', true);
                INSERT INTO \(s)._plexus_listeners (listener, until) VALUES (who, COALESCE(at_time, extract(epoch FROM clock_timestamp())) + lease)
                    ON CONFLICT (listener) DO UPDATE SET until = excluded.until;
                RETURN \(s)._plexus_set_change_triggers(true);
            END
            $plexus$;
            CREATE OR REPLACE FUNCTION \(s)._plexus_feed_leave(who text, at_time double precision) RETURNS integer LANGUAGE plpgsql AS $plexus$
            BEGIN
                PERFORM pg_advisory_xact_lock(\(feedLock(schema)));
                PERFORM set_config('lock_timeout', '\(lockTimeoutMilliseconds)ms', true);
                -- A lease that ran out goes only if its listener's session is gone (its lock is free).
                DELETE FROM \(s)._plexus_listeners WHERE listener = who
                    OR CASE WHEN until <= COALESCE(at_time, extract(epoch FROM clock_timestamp()))
                            THEN pg_try_advisory_xact_lock(\(listenerLock("listener"))) ELSE false END;
                IF EXISTS (SELECT 1 FROM \(s)._plexus_listeners) THEN RETURN 0; END IF;
                RETURN -\(s)._plexus_set_change_triggers(false);
            END
            $plexus$;
            -- The previous version's signatures, kept for an instance of it still running on the
            -- schema (a handover, a rolling upgrade): they call the new ones on the server's clock.
            CREATE OR REPLACE FUNCTION \(s)._plexus_feed_listen(who text, lease double precision) RETURNS integer LANGUAGE sql AS $plexus$
                SELECT \(s)._plexus_feed_listen(who, lease, NULL::double precision)
            $plexus$;
            CREATE OR REPLACE FUNCTION \(s)._plexus_feed_leave(who text) RETURNS integer LANGUAGE sql AS $plexus$
                SELECT \(s)._plexus_feed_leave(who, NULL::double precision)
            $plexus$;
            """
    }

    /// Records (or renews) `listener`'s lease of `lease` seconds and enables the change triggers;
    /// returns when that is committed. A lock wait that gave up is tried again.
    func listenForChanges(as listener: String, lease: Double) throws(StorageError) {
        try retryingLocks { () throws(StorageError) in
            _ = try run("SELECT _plexus_feed_listen($1::text, $2::float8, $3::float8)", [.text(listener), .real(lease), leaseNow], translate: false)
        }
    }

    /// Removes `listener`'s lease (nil: only the expired ones whose LISTEN session is gone) and,
    /// when no lease is left, disables the change triggers.
    func leaveChanges(as listener: String?) throws(StorageError) {
        try retryingLocks { () throws(StorageError) in
            _ = try run("SELECT _plexus_feed_leave($1::text, $2::float8)", [listener.map { StorageValue.text($0) } ?? StorageValue.null, leaseNow],
                        translate: false)
        }
    }

    /// The lease clock's time as a parameter (NULL: the server's clock).
    private var leaseNow: StorageValue { leaseClock.map { StorageValue.real($0()) } ?? .null }

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
