import CLibPQ
import Foundation

/// Creates a plugin's role and schema on PostgreSQL, as the administrator of the URL.
///
/// The role (`plugin_<name>`) may log in and owns the schema of the same name; PUBLIC has no
/// rights on that schema, so no other plugin's role can reach its tables, whatever SQL it
/// writes: the SQLite authorizer's guarantee, kept by the database's own permissions. The role's
/// password is derived from the administrator URL and the role name (SHA-256 in the server), so
/// every instance configured with the same URL computes the same one.
enum PostgresProvisioner {
    /// The role and schema of a plugin, and the password its connections use.
    struct Credentials: Sendable {
        let role: String
        let schema: String
        let password: String
    }

    /// `plugin_<name>` when the name is lowercase letters, digits and `_`; otherwise those
    /// characters (others become `_`) and an 8-hex-digit hash of the name, so names never collide.
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
        if plain { return String(("plugin_" + base).prefix(63)) }
        base = String(base.prefix(45))
        return "plugin_\(base)_\(Migration.checksum(pluginName).prefix(8))"
    }

    /// Creates (or updates) the role and schema; serialized across instances by an advisory lock.
    static func provision(pluginName: String, settings: PostgresSettings) throws(StorageError) -> Credentials {
        let name = try identifier(pluginName: pluginName)
        let admin = try AdminConnection(settings: settings)
        defer { admin.close() }
        let password = try admin.scalar(
            "SELECT encode(sha256(convert_to($1::text, 'UTF8')), 'hex')", ["plexus-role:\(name):\(settings.url)"])
        try admin.script("""
            SELECT pg_advisory_lock(hashtext('plexus-provision'));
            DO $plexus$ BEGIN
                IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '\(name)') THEN CREATE ROLE "\(name)" LOGIN; END IF;
            END $plexus$;
            ALTER ROLE "\(name)" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION PASSWORD '\(password)';
            ALTER ROLE "\(name)" SET search_path = "\(name)";
            DO $plexus$ BEGIN
                IF NOT pg_has_role(current_user, '\(name)', 'MEMBER') THEN EXECUTE 'GRANT "\(name)" TO ' || quote_ident(current_user); END IF;
            END $plexus$;
            CREATE SCHEMA IF NOT EXISTS "\(name)" AUTHORIZATION "\(name)";
            REVOKE ALL ON SCHEMA "\(name)" FROM PUBLIC;
            SELECT pg_advisory_unlock(hashtext('plexus-provision'));
            """)
        return Credentials(role: name, schema: name, password: password)
    }

    /// The libpq keywords a plugin connection logs in with.
    static func connectionParameters(_ credentials: Credentials, settings: PostgresSettings, application: String) -> [(String, String)] {
        [
            ("dbname", settings.url),
            ("user", credentials.role),
            ("password", credentials.password),
            ("options", "-c statement_timeout=\(settings.statementTimeoutMilliseconds) -c search_path=\(credentials.schema)"),
            ("application_name", String(application.prefix(63))),
            ("connect_timeout", String(max(1, settings.connectTimeoutSeconds))),
        ]
    }
}

/// A short-lived connection as the URL's own user (the administrator).
final class AdminConnection {
    private var connection: OpaquePointer?

    init(settings: PostgresSettings) throws(StorageError) {
        try settings.validate()
        let raw = PostgresConnection.connect(
            keywords: ["dbname", "application_name", "connect_timeout"],
            values: [settings.url, "plexus-admin", String(max(1, settings.connectTimeoutSeconds))])
        guard let raw, PQstatus(raw) == CONNECTION_OK else {
            let error = PostgresErrors.connectionError(raw)
            if let raw { PQfinish(raw) }
            throw StorageError(.unavailable, "\(error.message) (\(PostgresSettings.redacted(settings.url)))")
        }
        PQsetNoticeProcessor(raw, { _, _ in }, nil)
        connection = raw
    }

    deinit { close() }

    func close() {
        if let connection { PQfinish(connection) }
        connection = nil
    }

    /// Runs several statements without parameters.
    func script(_ sql: String) throws(StorageError) {
        let result = PQexec(connection, sql)
        defer { PQclear(result) }
        guard let result, PQresultStatus(result) == PGRES_COMMAND_OK || PQresultStatus(result) == PGRES_TUPLES_OK else {
            throw PostgresErrors.error(result: result, connection: connection)
        }
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
        let result = pointers.withUnsafeBufferPointer {
            PQexecParams(connection, sql, Int32(parameters.count), nil, $0.baseAddress, nil, nil, 0)
        }
        defer { PQclear(result) }
        guard let result, PQresultStatus(result) == PGRES_TUPLES_OK || PQresultStatus(result) == PGRES_COMMAND_OK else {
            throw PostgresErrors.error(result: result, connection: connection)
        }
        return (0..<PQntuples(result)).map { row in
            (0..<PQnfields(result)).map { column in PQgetvalue(result, row, column).map { String(cString: $0) } ?? "" }
        }
    }
}
