import Foundation
import PlexusSDK

/// Saved chart specs, named data sets, dashboards and reports per tenant, in the plugin's own
/// storage (its SQLite file, or its schema on PostgreSQL; the statements are valid on both).
@PluginActor
struct ChartStore {
    let storage: Storage

    /// SQLite's text, and PostgreSQL's where it differs (BLOB is BYTEA, INTEGER is 32-bit there).
    static let migrations: [SQLMigration] = [
        SQLMigration(version: 1, sql: """
        CREATE TABLE charts (
            tenant TEXT NOT NULL,
            id TEXT NOT NULL,
            spec BLOB NOT NULL,
            created_ms INTEGER NOT NULL,
            PRIMARY KEY (tenant, id)
        );
        CREATE TABLE datasets (
            tenant TEXT NOT NULL,
            name TEXT NOT NULL,
            rows BLOB NOT NULL,
            row_count INTEGER NOT NULL,
            PRIMARY KEY (tenant, name)
        );
        """, postgresql: """
        CREATE TABLE charts (
            tenant TEXT NOT NULL,
            id TEXT NOT NULL,
            spec BYTEA NOT NULL,
            created_ms BIGINT NOT NULL,
            PRIMARY KEY (tenant, id)
        );
        CREATE TABLE datasets (
            tenant TEXT NOT NULL,
            name TEXT NOT NULL,
            rows BYTEA NOT NULL,
            row_count BIGINT NOT NULL,
            PRIMARY KEY (tenant, name)
        );
        """),
        SQLMigration(version: 2, sql: """
        CREATE TABLE dashboards (
            tenant TEXT NOT NULL,
            id TEXT NOT NULL,
            definition BLOB NOT NULL,
            PRIMARY KEY (tenant, id)
        );
        """, postgresql: """
        CREATE TABLE dashboards (
            tenant TEXT NOT NULL,
            id TEXT NOT NULL,
            definition BYTEA NOT NULL,
            PRIMARY KEY (tenant, id)
        );
        """),
        SQLMigration(version: 3, sql: """
        CREATE TABLE reports (
            tenant TEXT NOT NULL,
            dashboard TEXT NOT NULL,
            id TEXT NOT NULL,
            created_ms INTEGER NOT NULL,
            pdf BLOB NOT NULL,
            PRIMARY KEY (tenant, dashboard, id)
        );
        """, postgresql: """
        CREATE TABLE reports (
            tenant TEXT NOT NULL,
            dashboard TEXT NOT NULL,
            id TEXT NOT NULL,
            created_ms BIGINT NOT NULL,
            pdf BYTEA NOT NULL,
            PRIMARY KEY (tenant, dashboard, id)
        );
        """),
    ]

    /// Validates an id or data set name: 1–64 characters of `[A-Za-z0-9._-]`, not starting with a dot.
    static func validateID(_ value: String, field: String) throws -> String {
        let allowed = value.utf8.allSatisfy { byte in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || byte == 0x5F || byte == 0x2D
        }
        guard (1...64).contains(value.utf8.count), allowed else {
            throw HTTPError.badRequest("\(field): '\(value.prefix(80))' is not a valid id (1 to 64 characters of A-Z, a-z, 0-9, '_', '-')")
        }
        return value
    }

    /// Saves (or replaces) a chart spec.
    func save(tenant: String, id: String, spec: [UInt8]) async throws {
        _ = try await storage.execute("INSERT INTO charts (tenant, id, spec, created_ms) VALUES (?, ?, ?, ?) ON CONFLICT (tenant, id) DO UPDATE SET spec = excluded.spec, created_ms = excluded.created_ms",
                                      [.text(tenant), .text(id), .blob(spec), .integer(Int64(Date().timeIntervalSince1970 * 1000))])
    }

    /// A saved spec, nil when the tenant has none with that id.
    func spec(tenant: String, id: String) async throws -> [UInt8]? {
        try await storage.query("SELECT spec FROM charts WHERE tenant = ? AND id = ?", [.text(tenant), .text(id)]).first?[0].blob
    }

    /// Stores (or replaces) a data set's rows (a JSON array).
    func saveDataset(tenant: String, name: String, rows: [UInt8], count: Int) async throws {
        _ = try await storage.execute("INSERT INTO datasets (tenant, name, rows, row_count) VALUES (?, ?, ?, ?) ON CONFLICT (tenant, name) DO UPDATE SET rows = excluded.rows, row_count = excluded.row_count",
                                      [.text(tenant), .text(name), .blob(rows), .integer(Int64(count))])
    }

    /// Saves (or replaces) a dashboard definition (normalised JSON).
    func saveDashboard(tenant: String, id: String, definition: [UInt8]) async throws {
        _ = try await storage.execute("INSERT INTO dashboards (tenant, id, definition) VALUES (?, ?, ?) ON CONFLICT (tenant, id) DO UPDATE SET definition = excluded.definition",
                                      [.text(tenant), .text(id), .blob(definition)])
    }

    /// A dashboard definition, nil when the tenant has none with that id.
    func dashboard(tenant: String, id: String) async throws -> [UInt8]? {
        try await storage.query("SELECT definition FROM dashboards WHERE tenant = ? AND id = ?", [.text(tenant), .text(id)]).first?[0].blob
    }

    /// Every stored dashboard of every tenant (for the report scheduler).
    func allDashboards() async throws -> [(tenant: String, id: String, definition: [UInt8])] {
        try await storage.query("SELECT tenant, id, definition FROM dashboards").compactMap { row in
            guard let tenant = row[0].text, let id = row[1].text, let definition = row[2].blob else { return nil }
            return (tenant, id, definition)
        }
    }

    /// Stores a generated report and forgets all but the newest `keep` of that dashboard.
    func saveReport(tenant: String, dashboard: String, id: String, createdMilliseconds: Int64, pdf: [UInt8], keep: Int) async throws {
        _ = try await storage.execute("INSERT INTO reports (tenant, dashboard, id, created_ms, pdf) VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant, dashboard, id) DO UPDATE SET created_ms = excluded.created_ms, pdf = excluded.pdf",
                                      [.text(tenant), .text(dashboard), .text(id), .integer(createdMilliseconds), .blob(pdf)])
        _ = try await storage.execute("""
            DELETE FROM reports WHERE tenant = ? AND dashboard = ? AND id NOT IN
            (SELECT id FROM reports WHERE tenant = ? AND dashboard = ? ORDER BY created_ms DESC, id DESC LIMIT ?)
            """, [.text(tenant), .text(dashboard), .text(tenant), .text(dashboard), .integer(Int64(keep))])
    }

    /// The dashboard's stored reports, newest first: id, creation time and size.
    func reports(tenant: String, dashboard: String) async throws -> [(id: String, createdMilliseconds: Int64, bytes: Int64)] {
        try await storage.query("SELECT id, created_ms, length(pdf) FROM reports WHERE tenant = ? AND dashboard = ? ORDER BY created_ms DESC, id DESC",
                                [.text(tenant), .text(dashboard)]).compactMap { row in
            guard let id = row[0].text, let created = row[1].integer, let bytes = row[2].integer else { return nil }
            return (id, created, bytes)
        }
    }

    /// One stored report's PDF.
    func report(tenant: String, dashboard: String, id: String) async throws -> [UInt8]? {
        try await storage.query("SELECT pdf FROM reports WHERE tenant = ? AND dashboard = ? AND id = ?", [.text(tenant), .text(dashboard), .text(id)]).first?[0].blob
    }

    /// The rows of the named data sets that exist for the tenant.
    func datasets(tenant: String, names: Set<String>) async throws -> [String: [UInt8]] {
        var found: [String: [UInt8]] = [:]
        for name in names {
            if let rows = try await storage.query("SELECT rows FROM datasets WHERE tenant = ? AND name = ?", [.text(tenant), .text(name)]).first?[0].blob {
                found[name] = rows
            }
        }
        return found
    }
}
