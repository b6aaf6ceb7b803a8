import Foundation
import PlexusStorage

/// The API keys in the runtime's SQLite database (or, with `[cluster] postgres` and no Redis, in
/// the runtime's schema on PostgreSQL, shared by every instance): create, revoke, list.
///
/// The plaintext of a key exists only in the value `create` returns; the database holds its
/// SHA-256 and its last four characters. Several stores (processes) may share one file: every
/// change bumps a generation counter that `APIKeyDirectory.refresh` watches.
public final class APIKeyStore: Sendable {
    /// The database the keys live in.
    public let engine: StorageEngine
    private let ownsEngine: Bool

    private init(engine: StorageEngine, ownsEngine: Bool) {
        self.engine = engine
        self.ownsEngine = ownsEngine
    }

    /// Opens (creating the directories, file and tables as needed) the key database at `path`,
    /// e.g. `<data>/runtime/gateway.sqlite`.
    public static func open(path: String) async throws(AuthError) -> APIKeyStore {
        do {
            try FileManager.default.createDirectory(
                at: URL(fileURLWithPath: path).deletingLastPathComponent(), withIntermediateDirectories: true)
        } catch {
            throw AuthError(.storage, "cannot create the directory of \(path): \(error.localizedDescription)")
        }
        var configuration = StorageConfiguration()
        configuration.purgeInterval = nil
        let engine: StorageEngine
        do {
            engine = try await StorageEngine.open(at: path, configuration: configuration)
        } catch {
            throw AuthError(.storage, "cannot open the API key database: \(error)")
        }
        let store = APIKeyStore(engine: engine, ownsEngine: true)
        do {
            try await store.prepareSchema()
        } catch {
            await engine.close()
            throw error
        }
        return store
    }

    /// The storage name of the runtime's own tables on PostgreSQL (a name no plugin can have: its
    /// schema is `plugin_plexus_runtime_<hash>`, provisioned like a plugin's).
    public static let postgresStorageName = "plexus.runtime"

    /// Opens the key tables on PostgreSQL (`[cluster] postgres`), shared by every instance on that
    /// database: a key created through one instance works on all of them after their next refresh.
    public static func open(postgres settings: PostgresSettings) async throws(AuthError) -> APIKeyStore {
        var configuration = StorageConfiguration()
        configuration.purgeInterval = nil
        let engine: StorageEngine
        do {
            engine = try await StorageEngine.open(pluginName: postgresStorageName, postgres: settings, configuration: configuration)
        } catch {
            throw AuthError(.storage, "cannot open the API key tables on PostgreSQL: \(error)")
        }
        let store = APIKeyStore(engine: engine, ownsEngine: true)
        do {
            try await store.prepareSchema()
        } catch {
            await engine.close()
            throw error
        }
        return store
    }

    /// Uses an engine that is already open (creating the tables if needed); `close` leaves it open.
    public static func open(engine: StorageEngine) async throws(AuthError) -> APIKeyStore {
        let store = APIKeyStore(engine: engine, ownsEngine: false)
        try await store.prepareSchema()
        return store
    }

    /// Closes the database if `open(path:)` opened it.
    public func close() async {
        if ownsEngine { await engine.close() }
    }

    private func prepareSchema() async throws(AuthError) {
        try await storage("creating the API key tables") { () async throws(StorageError) in
            try await engine.transaction { transaction in
                for statement in APIKeySchema.statements(for: self.engine.dialect) { try transaction.execute(statement) }
            }
        }
    }

    // MARK: Operations

    /// Creates a key and returns its record and its plaintext, which is shown this once and
    /// stored nowhere. Refuses (`.conflict`) the name of an active key, and (`.invalidArgument`)
    /// an empty or over-long name or tenant, control characters, or roles and scopes containing
    /// whitespace.
    public func create(
        name: String, tenant: String? = nil, roles: Set<String> = [], scopes: Set<String> = [],
        now: Double = Date().timeIntervalSince1970
    ) async throws(AuthError) -> (record: APIKeyRecord, plaintext: String) {
        try Self.validate(name, "name", allowSpaces: true)
        if let tenant { try Self.validate(tenant, "tenant", allowSpaces: false) }
        for role in roles { try Self.validate(role, "role", allowSpaces: false) }
        for scope in scopes { try Self.validate(scope, "scope", allowSpaces: false) }

        let (id, plaintext) = APIKeyFormat.generate()
        let record = APIKeyRecord(
            id: id, name: name, tenant: tenant, roles: roles, scopes: scopes, hint: String(plaintext.suffix(4)),
            createdAt: now, revokedAt: nil)
        let hash = APIKeyFormat.hex(APIKeyFormat.digest(plaintext[...]))
        let created = try await storage("creating API key \(AuthError.quoted(name))") { () async throws(StorageError) in
            try await engine.transaction { transaction -> Bool in
                let taken = try transaction.query(
                    "SELECT 1 FROM auth_api_keys WHERE name = ?1 AND revoked_at IS NULL", [.text(name)])
                guard taken.rows.isEmpty else { return false }
                try transaction.execute(
                    """
                    INSERT INTO auth_api_keys (id, name, tenant, roles, scopes, key_sha256, hint, created_at)
                    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                    """,
                    [.text(id), .text(name), tenant.map(StorageValue.text) ?? .null, .text(APIKeySchema.text(roles)),
                     .text(APIKeySchema.text(scopes)), .text(hash), .text(record.hint), .real(now)])
                try transaction.execute(APIKeySchema.bumpGeneration)
                return true
            }
        }
        guard created else { throw AuthError(.conflict, "an active API key named \(AuthError.quoted(name)) already exists") }
        return (record, plaintext)
    }

    /// Revokes the key with this id, else the active key with this name, and returns its record.
    /// Throws `.notFound` when neither exists and `.alreadyRevoked` when the key (or every key of
    /// that name) is already revoked. Running directories refuse the key after their next refresh.
    @discardableResult
    public func revoke(idOrName: String, now: Double = Date().timeIntervalSince1970) async throws(AuthError) -> APIKeyRecord {
        enum Outcome: Sendable { case revoked(APIKeyRecord), alreadyRevoked(APIKeyRecord), notFound }
        let outcome = try await storage("revoking API key \(AuthError.quoted(idOrName))") { () async throws(StorageError) in
            try await engine.transaction { transaction -> Outcome in
                let select = "SELECT \(APIKeySchema.recordColumns) FROM auth_api_keys"
                var rows = try transaction.query("\(select) WHERE id = ?1", [.text(idOrName)]).rows
                if rows.isEmpty {
                    rows = try transaction.query("\(select) WHERE name = ?1 AND revoked_at IS NULL", [.text(idOrName)]).rows
                }
                if rows.isEmpty {
                    rows = try transaction.query(
                        "\(select) WHERE name = ?1 ORDER BY revoked_at DESC LIMIT 1", [.text(idOrName)]).rows
                }
                guard let row = rows.first else { return .notFound }
                let record = APIKeySchema.record(from: row)
                if record.isRevoked { return .alreadyRevoked(record) }
                try transaction.execute("UPDATE auth_api_keys SET revoked_at = ?2 WHERE id = ?1", [.text(record.id), .real(now)])
                try transaction.execute(APIKeySchema.bumpGeneration)
                return .revoked(
                    APIKeyRecord(
                        id: record.id, name: record.name, tenant: record.tenant, roles: record.roles,
                        scopes: record.scopes, hint: record.hint, createdAt: record.createdAt, revokedAt: now))
            }
        }
        switch outcome {
        case .revoked(let record):
            return record
        case .alreadyRevoked(let record):
            throw AuthError(
                .alreadyRevoked,
                "API key \(AuthError.quoted(record.name)) (id \(record.id)) was already revoked at \(Timestamp.rfc3339(record.revokedAt ?? 0))")
        case .notFound:
            throw AuthError(.notFound, "no API key has the id or name \(AuthError.quoted(idOrName))")
        }
    }

    /// Every key, oldest first, revoked ones included (see `isRevoked`); never hashes or secrets.
    public func list() async throws(AuthError) -> [APIKeyRecord] {
        let result = try await storage("listing API keys") { () async throws(StorageError) in
            try await engine.query("SELECT \(APIKeySchema.recordColumns) FROM auth_api_keys ORDER BY created_at, id")
        }
        return result.rows.map(APIKeySchema.record(from:))
    }

    // MARK: Helpers

    private func storage<T>(_ what: String, _ body: () async throws(StorageError) -> T) async throws(AuthError) -> T {
        do {
            return try await body()
        } catch {
            throw AuthError(.storage, "\(what) failed: \(error)")
        }
    }

    private static func validate(_ value: String, _ what: String, allowSpaces: Bool) throws(AuthError) {
        guard !value.isEmpty, value.count <= 128 else {
            throw AuthError(.invalidArgument, "an API key \(what) must have 1 to 128 characters")
        }
        for scalar in value.unicodeScalars {
            if scalar.properties.generalCategory == .control {
                throw AuthError(.invalidArgument, "an API key \(what) may not contain control characters")
            }
            if scalar.properties.isWhitespace && !(allowSpaces && scalar == " ") {
                throw AuthError(.invalidArgument, "API key \(what) \(AuthError.quoted(value)) may not contain whitespace")
            }
        }
        if allowSpaces && value.trimmingCharacters(in: .whitespaces) != value {
            throw AuthError(.invalidArgument, "API key \(what) \(AuthError.quoted(value)) may not start or end with a space")
        }
    }
}
