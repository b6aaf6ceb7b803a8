/// The key-value statements on PostgreSQL, shared by the worker connections
/// (`PostgresKeyValue.swift`) and the loop's non-blocking connection (`PostgresLoopClient`), so
/// both paths run the very same SQL.
enum PostgresKeyValueSQL {
    /// $1 key, $2 now → key, value, version, expires_at.
    static let get = "SELECT key, value, version, expires_at FROM _plexus_kv WHERE key = $1::text AND (expires_at IS NULL OR expires_at > $2)"
    /// $1 key, $2 now → version.
    static let version = "SELECT version FROM _plexus_kv WHERE key = $1::text AND (expires_at IS NULL OR expires_at > $2)"
    /// $1 key, $2 value, $3 expires_at, $4 now → version (any version).
    static let put = """
        INSERT INTO _plexus_kv AS kv (key, value, version, expires_at) VALUES ($1::text, $2, 1, $3::float8)
        ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at,
          version = CASE WHEN kv.expires_at IS NULL OR kv.expires_at > $4 THEN kv.version + 1 ELSE 1 END
        RETURNING version
        """
    /// $1 key, $2 value, $3 expires_at, $4 now → version, or no row when a live key exists.
    static let putNew = """
        INSERT INTO _plexus_kv AS kv (key, value, version, expires_at) VALUES ($1::text, $2, 1, $3::float8)
        ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at, version = 1
        WHERE kv.expires_at IS NOT NULL AND kv.expires_at <= $4
        RETURNING version
        """
    /// $1 key, $2 value, $3 expires_at, $4 expected version, $5 now → version, or no row.
    static let putExpected = """
        UPDATE _plexus_kv SET value = $2, version = version + 1, expires_at = $3::float8
        WHERE key = $1::text AND version = $4 AND (expires_at IS NULL OR expires_at > $5)
        RETURNING version
        """
    /// $1 key, $2 now → whether a live row was deleted (also removes an expired leftover).
    static let delete = "DELETE FROM _plexus_kv WHERE key = $1::text RETURNING (expires_at IS NULL OR expires_at > $2)"
    /// $1 key, $2 expected version, $3 now → a row when deleted.
    static let deleteExpected = "DELETE FROM _plexus_kv WHERE key = $1::text AND version = $2 AND (expires_at IS NULL OR expires_at > $3) RETURNING 1"
}
