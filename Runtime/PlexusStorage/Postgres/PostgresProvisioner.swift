import CLibPQ
import Foundation

/// Creates a plugin's role and schema on PostgreSQL, as the administrator of the URL.
///
/// The schema is `plugin_<name>`; the role (`plugin_<name>_<installation id>`) may log in and owns
/// it. PUBLIC has no rights on that schema, so no other plugin's role can reach its tables,
/// whatever SQL it writes: the SQLite authorizer's guarantee, kept by the database's own
/// permissions.
///
/// Roles belong to the whole PostgreSQL cluster, databases do not: two installations on one
/// cluster (each its own database) must never share or reset each other's roles. So the database
/// holds its installation's identity (`plexus_installation.identity`: a random id and secret, made
/// once, readable by the administrator only); the role's name carries the id, and its password is
/// derived from the secret and the role name (SHA-256 in the server). Every instance configured
/// with the same database computes the same role and password; another installation computes
/// others. A schema left owned by an older role (`plugin_<name>`, before the id) is handed over,
/// with everything in it, to the installation's role.
enum PostgresProvisioner {
    /// The role and schema of a plugin, and the password its connections use.
    struct Credentials: Sendable {
        let role: String
        let schema: String
        let password: String
    }

    /// The installation's identity, made once per database (the first row wins under the lock).
    static let installationScript = """
        CREATE SCHEMA IF NOT EXISTS plexus_installation;
        REVOKE ALL ON SCHEMA plexus_installation FROM PUBLIC;
        CREATE TABLE IF NOT EXISTS plexus_installation.identity (
            singleton BOOLEAN PRIMARY KEY DEFAULT true CHECK (singleton),
            id TEXT NOT NULL,
            secret TEXT NOT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now()
        );
        INSERT INTO plexus_installation.identity (id, secret)
        VALUES (left(md5(gen_random_uuid()::text), 8), replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''))
        ON CONFLICT DO NOTHING;
        """

    /// The role of a plugin's schema in the installation `installationID` (at most 63 bytes):
    /// `<schema>_<id>` when that fits, otherwise the schema's start, a hash of the whole schema
    /// name and the id, so two schemas never share a role however alike their names are.
    static func roleName(schema: String, installationID: String) -> String {
        let whole = schema + "_" + installationID
        if whole.utf8.count <= 63 { return whole }
        let hash = Migration.checksum(schema).prefix(12)
        return String(schema.prefix(63 - 2 - hash.count - installationID.utf8.count)) + "_" + hash + "_" + installationID
    }

    /// `plugin_<name>` when the name is lowercase letters, digits and `_` and fits in 63 bytes;
    /// otherwise those characters (others become `_`) and an 8-hex-digit hash of the name, so
    /// names never collide.
    static func identifier(pluginName: String) throws(StorageError) -> String {
        if pluginName.isEmpty || pluginName.contains("\0") || pluginName.utf8.count > 200 {
            throw StorageError(.misuse, "invalid plugin name \"\(pluginName)\"", operation: "open")
        }
        let plain = pluginName.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
        var base = String(pluginName.unicodeScalars.map { scalar -> Character in
            let lower = Character(scalar).lowercased()
            return lower.unicodeScalars.count == 1 && lower.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) })
                ? Character(lower) : "_"
        })
        if plain, base.utf8.count <= 63 - 7 { return "plugin_" + base }
        base = String(base.prefix(45))
        return "plugin_\(base)_\(Migration.checksum(pluginName).prefix(8))"
    }

    /// Creates (or updates) the installation's identity, the role and the schema; serialized across
    /// instances by an advisory lock.
    static func provision(pluginName: String, settings: PostgresSettings) throws(StorageError) -> Credentials {
        let name = try identifier(pluginName: pluginName)
        let admin = try AdminConnection(settings: settings)
        defer { admin.close() }
        try admin.script("SELECT pg_advisory_lock(hashtext('plexus-provision'))")
        let role: String, password: String
        do throws(StorageError) {
            try admin.script(installationScript)
            guard let identity = try admin.rows("SELECT id FROM plexus_installation.identity", []).first, identity.count == 1,
                  !identity[0].isEmpty, identity[0].allSatisfy({ $0.isHexDigit }) else {
                throw StorageError(.misuse, "plexus_installation.identity holds no valid installation id")
            }
            role = roleName(schema: name, installationID: identity[0])
            // The secret stays in the server: only the role name is sent (a bind parameter can be logged).
            password = try admin.scalar(
                "SELECT encode(sha256(convert_to('plexus-role:' || $1::text || ':' || secret, 'UTF8')), 'hex') FROM plexus_installation.identity WHERE secret <> ''", [role])
            guard password.utf8.count == 64 else {
                throw StorageError(.misuse, "plexus_installation.identity holds no installation secret")
            }
            // The role's password is sent as a SCRAM verifier made here, never as clear text
            // (statements can land in the server log or pg_stat_activity).
            let verifier = try admin.scramVerifier(password: password, role: role)
            try admin.script("""
                DO $plexus$ BEGIN
                    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '\(role)') THEN CREATE ROLE "\(role)" LOGIN; END IF;
                END $plexus$;
                ALTER ROLE "\(role)" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION PASSWORD '\(verifier)';
                ALTER ROLE "\(role)" SET search_path = "\(name)";
                DO $plexus$ BEGIN
                    IF NOT pg_has_role(current_user, '\(role)', 'MEMBER') THEN EXECUTE 'GRANT "\(role)" TO ' || quote_ident(current_user); END IF;
                END $plexus$;
                CREATE SCHEMA IF NOT EXISTS "\(name)" AUTHORIZATION "\(role)";
                REVOKE ALL ON SCHEMA "\(name)" FROM PUBLIC;
                """)
            try admin.script(handOverScript(schema: name, role: role))
            try admin.script(retireScript(oldRole: name, role: role))
        } catch {
            try? admin.script("SELECT pg_advisory_unlock(hashtext('plexus-provision'))")
            throw error
        }
        try admin.script("SELECT pg_advisory_unlock(hashtext('plexus-provision'))")
        return Credentials(role: role, schema: name, password: password)
    }

    /// Hands a schema that another role owns (a role named before installation ids), and
    /// everything in it, to `role`. Sequences owned by a column follow their table.
    static func handOverScript(schema: String, role: String) -> String {
        """
        DO $plexus$
        DECLARE r record;
        BEGIN
            IF EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = '\(schema)' AND nspowner <> '"\(role)"'::regrole) THEN
                EXECUTE 'ALTER SCHEMA "\(schema)" OWNER TO "\(role)"';
            END IF;
            FOR r IN
                SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = '\(schema)' AND c.relowner <> '"\(role)"'::regrole AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
                  AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                                                        AND d.objid = c.oid AND d.deptype IN ('a', 'i')))
            LOOP
                EXECUTE format('ALTER %s %I.%I OWNER TO %I',
                    CASE r.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                                   WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
                    '\(schema)', r.relname, '\(role)');
            END LOOP;
            FOR r IN
                SELECT p.oid::regprocedure AS routine FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE n.nspname = '\(schema)' AND p.proowner <> '"\(role)"'::regrole
            LOOP
                EXECUTE format('ALTER ROUTINE %s OWNER TO %I', r.routine, '\(role)');
            END LOOP;
        END
        $plexus$;
        """
    }
    /// After the handover: the role named before installation ids (`plugin_<name>`, the schema's
    /// name), whose password was derivable from the URL, may no longer log in; once no session
    /// on the cluster uses it, it is dropped. A drop the server refuses (the role still owns or
    /// holds rights on something, in any database of the cluster) leaves it, without login, for
    /// a later start.
    static func retireScript(oldRole: String, role: String) -> String {
        """
        DO $plexus$ BEGIN
            IF '\(oldRole)' <> '\(role)' AND EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '\(oldRole)' AND rolcanlogin) THEN
                EXECUTE 'ALTER ROLE "\(oldRole)" NOLOGIN PASSWORD NULL';
            END IF;
            IF '\(oldRole)' <> '\(role)' AND EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '\(oldRole)' AND NOT rolcanlogin)
               AND NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE usename = '\(oldRole)') THEN
                BEGIN
                    EXECUTE 'DROP ROLE "\(oldRole)"';
                EXCEPTION WHEN dependent_objects_still_exist OR object_in_use OR insufficient_privilege THEN
                    NULL;
                END;
            END IF;
        END $plexus$;
        """
    }

    /// The libpq keywords a plugin connection (pool, loop, listener) logs in with: TCP keepalives
    /// and `tcp_user_timeout` included (``PostgresDeadline``).
    static func connectionParameters(_ credentials: Credentials, settings: PostgresSettings, application: String) -> [(String, String)] {
        [
            ("dbname", settings.url),
            ("user", credentials.role),
            ("password", credentials.password),
            ("options", "-c statement_timeout=\(settings.statementTimeoutMilliseconds) -c search_path=\(credentials.schema)"),
            ("application_name", String(application.prefix(63))),
            ("connect_timeout", String(max(1, settings.connectTimeoutSeconds))),
        ] + PostgresDeadline.parameters(for: settings)
    }
}

/// A short-lived connection as the URL's own user (the administrator). Like the pool's, it has
/// the statement timeout, keepalives, `tcp_user_timeout` and a client deadline on every request
/// (``PostgresDeadline``): a server that stops answering mid-provisioning fails the start with
/// `.unavailable` naming PostgreSQL instead of hanging it.
final class AdminConnection {
    private var connection: OpaquePointer?
    /// The client deadline of one request (ms); 0: none.
    private let deadline: Int

    init(settings: PostgresSettings) throws(StorageError) {
        try settings.validate()
        let parameters = [
            ("dbname", settings.url), ("application_name", "plexus-admin"), ("connect_timeout", String(max(1, settings.connectTimeoutSeconds))),
            ("options", "-c statement_timeout=\(settings.statementTimeoutMilliseconds)"),
        ] + PostgresDeadline.parameters(for: settings)
        let raw = PostgresConnection.connect(keywords: parameters.map(\.0), values: parameters.map(\.1))
        guard let raw, PQstatus(raw) == CONNECTION_OK else {
            let error = PostgresErrors.connectionError(raw)
            if let raw { PQfinish(raw) }
            throw StorageError(.unavailable, "\(error.message) (\(PostgresSettings.redacted(settings.url)))")
        }
        PQsetNoticeProcessor(raw, { _, _ in }, nil)
        PQsetnonblocking(raw, 1)
        connection = raw
        deadline = PostgresDeadline.milliseconds(settings)
    }

    /// Sends a request with `send` and waits for its last result within the client deadline; past
    /// it the connection is closed and the request fails `.unavailable`.
    private func exchange(_ send: (OpaquePointer) -> Int32) throws(StorageError) -> OpaquePointer? {
        guard let connection else { throw StorageError(.unavailable, "the PostgreSQL administrator connection was closed after an earlier failure") }
        do {
            return try PostgresDeadline.exchange(connection, milliseconds: deadline, send)
        } catch {
            close()
            throw StorageError(.unavailable, "provisioning plugin storage: \(error.message)")
        }
    }

    deinit { close() }

    func close() {
        if let connection { PQfinish(connection) }
        connection = nil
    }

    /// Runs several statements without parameters.
    func script(_ sql: String) throws(StorageError) {
        let result = try exchange { PQsendQuery($0, sql) }
        defer { PQclear(result) }
        guard let result, PQresultStatus(result) == PGRES_COMMAND_OK || PQresultStatus(result) == PGRES_TUPLES_OK else {
            throw PostgresErrors.error(result: result, connection: connection)
        }
    }

    /// The SCRAM-SHA-256 verifier of `password` for `role` (`PQencryptPasswordConn`): what
    /// `ALTER ROLE … PASSWORD` stores, so the clear password never reaches the server.
    func scramVerifier(password: String, role: String) throws(StorageError) -> String {
        guard let raw = PQencryptPasswordConn(connection, password, role, "scram-sha-256") else {
            let message = PQerrorMessage(connection).map { String(cString: $0) } ?? "unknown error"
            throw StorageError(.other, "could not make the SCRAM verifier of role \(role): \(message)")
        }
        defer { PQfreemem(raw) }
        let verifier = String(cString: raw)
        guard verifier.hasPrefix("SCRAM-SHA-256$"), !verifier.contains("'"), !verifier.contains("\\") else {
            throw StorageError(.other, "unexpected SCRAM verifier form for role \(role)")
        }
        return verifier
    }

    /// The first column of the first row of a query with text parameters.
    func scalar(_ sql: String, _ parameters: [String]) throws(StorageError) -> String {
        try rows(sql, parameters).first?.first ?? ""
    }

    /// Every row of a query with text parameters, as text (NULL as "").
    func rows(_ sql: String, _ parameters: [String]) throws(StorageError) -> [[String]] {
        let copies = parameters.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        let pointers = copies.map { $0.map { UnsafePointer<CChar>($0) } }
        var failure: StorageError?
        let result = pointers.withUnsafeBufferPointer { values -> OpaquePointer? in
            do throws(StorageError) {
                return try exchange { PQsendQueryParams($0, sql, Int32(parameters.count), nil, values.baseAddress, nil, nil, 0) }
            } catch {
                failure = error
                return nil
            }
        }
        if let failure { throw failure }
        defer { PQclear(result) }
        guard let result, PQresultStatus(result) == PGRES_TUPLES_OK || PQresultStatus(result) == PGRES_COMMAND_OK else {
            throw PostgresErrors.error(result: result, connection: connection)
        }
        return (0..<PQntuples(result)).map { row in
            (0..<PQnfields(result)).map { column in PQgetvalue(result, row, column).map { String(cString: $0) } ?? "" }
        }
    }
}
