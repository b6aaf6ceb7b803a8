import Foundation
import PlexusSDK

/// One stored version's metadata, as the history lists it.
struct VersionInfo: Encodable, Sendable {
    /// 1, 2, 3, … per (tenant, document).
    var version: Int
    /// When it was stored (ISO 8601, UTC, milliseconds).
    var created: String
    /// Size of the stored (extracted) text in UTF-8 bytes.
    var bytes: Int
    /// `text` or `docx`: what was uploaded.
    var format: String
    /// The uploaded file name, if any.
    var filename: String?
}

/// A stored version's text and how it was uploaded.
struct StoredText: Sendable {
    var version: Int
    var format: String
    var filename: String?
    var text: String
}

/// Document versions per tenant in the plugin's own storage (SQLite, or PostgreSQL shared by
/// every instance).
///
/// Every call goes through ``Storage`` (off the loop); versions are numbered by a single
/// `INSERT … SELECT MAX(version) + 1 … RETURNING version`. On SQLite writes are serialized, so
/// concurrent uploads of one document never collide; on PostgreSQL two instances may pick the same
/// number, the unique index refuses the second, and it is numbered again.
@PluginActor
struct VersionStore {
    let storage: Storage

    /// The schema. The unique index on (tenant, document, version) is the (tenant, document) index:
    /// its prefix serves the per-document lookups, and it enforces one row per version number.
    static let migrations: [SQLMigration] = [
        SQLMigration(version: 1, sql: """
        CREATE TABLE document_versions (
            id INTEGER PRIMARY KEY,
            tenant TEXT NOT NULL,
            document TEXT NOT NULL,
            version INTEGER NOT NULL,
            created_ms INTEGER NOT NULL,
            format TEXT NOT NULL,
            filename TEXT,
            text TEXT NOT NULL,
            bytes INTEGER NOT NULL,
            original_bytes INTEGER NOT NULL
        );
        CREATE UNIQUE INDEX document_versions_by_tenant_document ON document_versions (tenant, document, version);
        """, postgresql: """
        CREATE TABLE document_versions (
            id BIGSERIAL PRIMARY KEY,
            tenant TEXT NOT NULL,
            document TEXT NOT NULL,
            version BIGINT NOT NULL,
            created_ms BIGINT NOT NULL,
            format TEXT NOT NULL,
            filename TEXT,
            text TEXT NOT NULL,
            bytes BIGINT NOT NULL,
            original_bytes BIGINT NOT NULL
        );
        CREATE UNIQUE INDEX document_versions_by_tenant_document ON document_versions (tenant, document, version);
        """),
    ]

    /// Validates a tenant or document id: 1–64 characters of `[A-Za-z0-9._-]`.
    /// - Throws: 400 naming `field`.
    static func validateID(_ value: String?, field: String) throws -> String {
        let value = value ?? ""
        let allowed = value.utf8.allSatisfy { byte in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                || byte == 0x2E || byte == 0x5F || byte == 0x2D
        }
        guard (1...64).contains(value.utf8.count), allowed else {
            throw HTTPError.badRequest("path segment '\(field)': '\(value.prefix(80))' is not a valid id (1 to 64 characters of A-Z, a-z, 0-9, '.', '_', '-')")
        }
        return value
    }

    /// Stores a new version and returns its metadata (the next number for this tenant and document).
    func add(tenant: String, document: String, format: String, filename: String?, text: String,
             originalBytes: Int, created: Date = Date()) async throws -> VersionInfo {
        let createdMS = Int64((created.timeIntervalSince1970 * 1000).rounded())
        let bytes = text.utf8.count
        var attempt = 1
        while true {
            do {
                let rows = try await storage.query("""
                    INSERT INTO document_versions (tenant, document, version, created_ms, format, filename, text, bytes, original_bytes)
                    SELECT ?1, ?2, COALESCE(MAX(version), 0) + 1, ?3, ?4, ?5, ?6, ?7, ?8
                    FROM document_versions WHERE tenant = ?1 AND document = ?2
                    RETURNING version
                    """, [.text(tenant), .text(document), .integer(createdMS), .text(format), filename.map { .text($0) } ?? .null,
                          .text(text), .integer(Int64(bytes)), .integer(Int64(originalBytes))])
                guard let version = rows.first?[0].integer else {
                    throw HTTPError(status: 500, detail: "the stored version could not be read back")
                }
                return VersionInfo(version: Int(version), created: Self.timestamp(createdMS), bytes: bytes, format: format, filename: filename)
            } catch let failure as StorageFailure where failure.kind == .constraint && attempt < 5 {
                attempt += 1  // another instance took this number in the meantime (PostgreSQL)
            }
        }
    }

    /// Every version of a document, oldest first (empty: no such document for this tenant).
    func history(tenant: String, document: String) async throws -> [VersionInfo] {
        try await storage.query("""
            SELECT version, created_ms, bytes, format, filename FROM document_versions
            WHERE tenant = ? AND document = ? ORDER BY version
            """, [.text(tenant), .text(document)]).map { row in
            VersionInfo(version: Int(row[0].integer ?? 0), created: Self.timestamp(row[1].integer ?? 0), bytes: Int(row[2].integer ?? 0),
                        format: row[3].text ?? "text", filename: row[4].text)
        }
    }

    /// The stored texts of `versions` of a document that exist, keyed by version.
    func texts(tenant: String, document: String, versions: [Int]) async throws -> [Int: StoredText] {
        let wanted = Array(Set(versions))
        let placeholders = wanted.map { _ in "?" }.joined(separator: ", ")
        let rows = try await storage.query("""
            SELECT version, format, filename, text FROM document_versions
            WHERE tenant = ? AND document = ? AND version IN (\(placeholders))
            """, [.text(tenant), .text(document)] + wanted.map { .integer(Int64($0)) })
        var found: [Int: StoredText] = [:]
        for row in rows {
            let version = Int(row[0].integer ?? 0)
            found[version] = StoredText(version: version, format: row[1].text ?? "text", filename: row[2].text, text: row[3].text ?? "")
        }
        return found
    }

    /// `milliseconds` since 1970 as ISO 8601 with milliseconds, UTC.
    static func timestamp(_ milliseconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }
}
