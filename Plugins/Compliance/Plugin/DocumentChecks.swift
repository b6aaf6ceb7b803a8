import ComplianceEngine
import Foundation
import PlexusSDK

/// One checked version of a document, as `GET /api/v1/compliance/documents/:id` shows it.
struct VersionRecord: Codable, Sendable {
    var version: Int
    /// `checked`, or `unavailable` when the text could not be fetched.
    var status: String
    var checkedAt: String
    /// Clauses checked afresh and clauses in the version (the rest carried forward).
    var clausesChecked: Int
    var clausesTotal: Int
    var detail: String?
    var result: CheckResult?
}

/// Checks of stored document versions per tenant: each new version is split into clauses,
/// only clauses whose text changed since the previous version are checked again, and the
/// findings of the others are carried forward.
extension CompliancePlugin {
    /// SQLite's text; PostgreSQL's the same with BIGINT version numbers (INTEGER is 32-bit there).
    static let migrations: [SQLMigration] = [
        SQLMigration(version: 1, sql: """
        CREATE TABLE compliance_versions (
            tenant TEXT NOT NULL,
            document TEXT NOT NULL,
            version INTEGER NOT NULL,
            record TEXT NOT NULL,
            clauses TEXT NOT NULL,
            PRIMARY KEY (tenant, document, version)
        );
        """, postgresql: """
        CREATE TABLE compliance_versions (
            tenant TEXT NOT NULL,
            document TEXT NOT NULL,
            version BIGINT NOT NULL,
            record TEXT NOT NULL,
            clauses TEXT NOT NULL,
            PRIMARY KEY (tenant, document, version)
        );
        """),
    ]

    /// Validates a document id: 1–64 characters of `[A-Za-z0-9._-]`.
    static func documentID(_ value: String?) throws -> String {
        let value = value ?? ""
        guard (1...64).contains(value.utf8.count), value.utf8.allSatisfy({ ASCII($0) }) else {
            throw HTTPError.badRequest("path segment 'id': '\(value.prefix(80))' is not a document id (1 to 64 of A-Z, a-z, 0-9, '.', '_', '-')")
        }
        return value
    }

    private static func ASCII(_ b: UInt8) -> Bool {
        (0x30...0x39).contains(b) || (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b) || b == 0x2E || b == 0x5F || b == 0x2D
    }

    func registerDocumentRoutes() throws {
        var options = RouteOptions.tenant.summary("Checks a new version of a document (text, JSON or .docx), re-checking only changed clauses")
        options.responseStatus = 201
        try context.routes.post("\(Self.prefix)/documents/:id/versions", options: options, maxBodyBytes: UInt64(maxBodyBytes)) { [unowned self] request async throws in
            let tenant = try request.requireTenant()
            let document = try Self.documentID(request.parameters["id"])
            let limit = maxBodyBytes
            let input = try await context.offLoop { try ScanInput.decode(request, maxTextBytes: limit) }
            let next = try await reserveVersion(tenant: tenant, document: document)
            do {
                let record = try await checkVersion(tenant: tenant, document: document, version: next, text: input.text)
                return try .json(record, status: 201, encoder: Self.encoder)
            } catch {
                _ = try? await storage.execute("DELETE FROM compliance_versions WHERE tenant = ? AND document = ? AND version = ?",
                                               [.text(tenant), .text(document), .integer(Int64(next))])
                throw error
            }
        }
        try context.routes.get("\(Self.prefix)/documents/:id", options: .tenant.summary("Status and findings of each checked version")) { [unowned self] request async throws in
            let tenant = try request.requireTenant()
            let document = try Self.documentID(request.parameters["id"])
            var versions = try await records(tenant: tenant, document: document)
            guard !versions.isEmpty else { throw HTTPError.notFound("tenant '\(tenant)' has no checked document '\(document)'") }
            let packs = try await self.packs(nil, tenant: tenant)
            for index in versions.indices { versions[index].result = Self.withRetention(versions[index], packs: packs) }
            struct History: Encodable { var tenant: String; var document: String; var versions: [VersionRecord] }
            return try .json(History(tenant: tenant, document: document, versions: versions), encoder: Self.encoder)
        }
    }

    /// Subscribes the durable consumer group `compliance` to `document.changed`.
    func subscribeToDocumentChanges() throws {
        try context.bus.subscribe("document.changed", group: "compliance") { [unowned self] event in
            struct Changed: Decodable { var tenant: String; var document: String; var version: Int }
            guard let changed = try? JSONDecoder().decode(Changed.self, from: Data(event.payload)),
                  let document = try? Self.documentID(changed.document), changed.version >= 1 else {
                context.logger.warning("document.changed with an unreadable payload was skipped", metadata: ["event": "\(event.id)"])
                return
            }
            let request = try JSONEncoder().encode(["tenant": changed.tenant, "document": document, "version": "\(changed.version)"])
            let text: String
            do {
                let reply = try await context.services.call(Self.versionService, payload: Array(request), timeout: .seconds(10))
                struct Stored: Decodable { var text: String }
                text = try JSONDecoder().decode(Stored.self, from: Data(reply)).text
            } catch {
                let record = VersionRecord(version: changed.version, status: "unavailable", checkedAt: Self.now(), clausesChecked: 0, clausesTotal: 0,
                                           detail: "the text of version \(changed.version) could not be fetched from service '\(Self.versionService)': \(error)",
                                           result: nil)
                try await store(version: changed.version, recordJSON: String(decoding: try Self.encoder.encode(record), as: UTF8.self),
                                clausesJSON: "[]", tenant: changed.tenant, document: document)
                return
            }
            _ = try await checkVersion(tenant: changed.tenant, document: document, version: changed.version, text: text)
        }
    }

    /// The service of the document comparison plugin that returns a stored version's text:
    /// request `{"tenant", "document", "version"}`, reply `{"text"}`.
    static let versionService = "doccompare.version"

    /// Checks `text` as `version`, reusing the findings of the latest earlier version's unchanged clauses.
    func checkVersion(tenant: String, document: String, version: Int, text: String) async throws -> VersionRecord {
        let previous = try await storage.query(
            "SELECT clauses FROM compliance_versions WHERE tenant = ? AND document = ? AND version < ? ORDER BY version DESC LIMIT 1",
            [.text(tenant), .text(document), .integer(Int64(version))]).first?[0].text
        let packs = try await self.packs(nil, tenant: tenant)
        let checkedAt = Self.now()
        // Decoding the carried findings, the check and encoding what is stored all run off the loop.
        let (record, recordJSON, clausesJSON) = try await context.offLoop { () throws -> (VersionRecord, String, String) in
            let carried = previous.flatMap { try? JSONDecoder().decode([ClauseFindings].self, from: Data($0.utf8)) } ?? []
            let run = PackChecker.recheck(text, previous: carried, packs: packs)
            let record = VersionRecord(version: version, status: "checked", checkedAt: checkedAt, clausesChecked: run.checked,
                                       clausesTotal: run.clauses.count, detail: nil, result: run.result)
            return (record, String(decoding: try Self.encoder.encode(record), as: UTF8.self),
                    String(decoding: try JSONEncoder().encode(run.clauses), as: UTF8.self))
        }
        try await store(version: version, recordJSON: recordJSON, clausesJSON: clausesJSON, tenant: tenant, document: document)
        if let result = record.result { await publish(result, tenant: tenant, document: document, version: version) }
        return record
    }

    var storage: Storage { context.storage }

    /// Takes the next version number of a document with a placeholder row, by one
    /// `INSERT … SELECT MAX + 1 … RETURNING version`: SQLite serializes writes, so concurrent posts
    /// never share a number; on PostgreSQL two instances may pick the same one, the primary key
    /// refuses the second, and it is numbered again. The placeholder is replaced by the check, or
    /// removed when the check fails.
    func reserveVersion(tenant: String, document: String) async throws -> Int {
        var attempt = 1
        while true {
            do {
                let rows = try await storage.query("""
                    INSERT INTO compliance_versions (tenant, document, version, record, clauses)
                    SELECT ?1, ?2, COALESCE(MAX(version), 0) + 1, '{}', '[]' FROM compliance_versions WHERE tenant = ?1 AND document = ?2
                    RETURNING version
                    """, [.text(tenant), .text(document)])
                guard let next = rows.first?[0].integer.map(Int.init) else {
                    throw HTTPError(status: 500, detail: "the new version number could not be read back")
                }
                return next
            } catch let failure as StorageFailure where failure.kind == .constraint && attempt < 8 {
                attempt += 1  // another instance took this number in the meantime (PostgreSQL)
            }
        }
    }

    /// Stores a version's record and clause findings (replacing an earlier check of the same version).
    func store(version: Int, recordJSON: String, clausesJSON: String, tenant: String, document: String) async throws {
        _ = try await storage.execute("""
            INSERT INTO compliance_versions (tenant, document, version, record, clauses) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (tenant, document, version) DO UPDATE SET record = excluded.record, clauses = excluded.clauses
            """, [.text(tenant), .text(document), .integer(Int64(version)), .text(recordJSON), .text(clausesJSON)])
    }

    func records(tenant: String, document: String) async throws -> [VersionRecord] {
        try await storage.query("SELECT record FROM compliance_versions WHERE tenant = ? AND document = ? ORDER BY version",
                                [.text(tenant), .text(document)]).compactMap { row in
            row[0].text.flatMap { try? Self.decoder.decode(VersionRecord.self, from: Data($0.utf8)) }
        }
    }

    static func now() -> String { ISO8601DateFormatter().string(from: Date()) }

    /// A stored result with the retention rules of `packs` applied for the version's age today
    /// (a version that held personal data and has grown older than a pack allows is reported).
    static func withRetention(_ record: VersionRecord, packs: [RulePack], today: Date = Date()) -> CheckResult? {
        guard let result = record.result, let checked = ISO8601DateFormatter().date(from: record.checkedAt) else { return record.result }
        return PackChecker.addingRetention(result, packs: packs, ageDays: Int(today.timeIntervalSince(checked) / 86_400))
    }

    nonisolated static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return encoder
    }

    nonisolated static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }
}
