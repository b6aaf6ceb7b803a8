import Foundation
import PlexusSDK

/// A test fixture that keeps notes in its own storage: SQL with a migration, key-value with
/// versions and TTL, a raw-SQL route (to prove another plugin's database is out of reach), and a
/// bulk route (to fill a disk).
@PluginActor
public final class NotesPlugin: Plugin {
    public static let manifest = PluginManifest(name: "notes", version: "1.0.0", description: "fixture: plugin storage")

    private let context: PluginContext

    public init(context: PluginContext) throws {
        self.context = context
        let storage = context.storage
        try context.routes.post("/api/v1/notes") { request async throws in
            // PostgreSQL has no rowid: RETURNING id gives `lastInsertRowID` there.
            let insert = storage.dialect == .postgresql ? "INSERT INTO notes(body) VALUES (?) RETURNING id" : "INSERT INTO notes(body) VALUES (?)"
            let result = try await storage.execute(insert, [.text(request.bodyText ?? "")])
            return try .json(["id": result.lastInsertRowID], status: 201)
        }
        try context.routes.get("/api/v1/notes") { _ async throws in
            let rows = try await storage.query("SELECT id, body FROM notes ORDER BY id")
            return try .json(rows.map { ["id": "\($0["id"].integer ?? 0)", "body": $0["body"].text ?? ""] })
        }
        try context.routes.put("/api/v1/notes/:id") { request async throws in
            let changed = try await storage.execute("UPDATE notes SET body = ? WHERE id = ?",
                                                    [.text(request.bodyText ?? ""), .integer(Int64(request.parameters["id"]!) ?? -1)])
            guard changed.changes == 1 else { throw HTTPError.notFound("no note \(request.parameters["id"]!)") }
            return .empty()
        }
        try context.routes.delete("/api/v1/notes/:id") { request async throws in
            try await storage.execute("DELETE FROM notes WHERE id = ?", [.integer(Int64(request.parameters["id"]!) ?? -1)])
            return .empty()
        }
        try context.routes.post("/api/v1/notes/sql") { request async throws in
            try await storage.execute(request.bodyText ?? "")
            return .empty()
        }
        try context.routes.post("/api/v1/notes/bulk") { request async throws in
            let count = Int(request.query["count"] ?? "") ?? 10
            let body = String(repeating: "x", count: Int(request.query["size"] ?? "") ?? 1000)
            try await storage.transaction(Array(repeating: ("INSERT INTO notes(body) VALUES (?)", [.text(body)]), count: count))
            return .empty(status: 201)
        }
        try context.routes.put("/api/v1/kv/:key") { request async throws in
            let version = try await storage.put(request.parameters["key"]!, request.body, ttl: request.query["ttl"].flatMap(Double.init),
                                                expectedVersion: request.query["expected_version"].flatMap { Int64($0) })
            return try .json(["version": version])
        }
        try context.routes.get("/api/v1/kv/:key") { request async throws in
            guard let entry = try await storage.get(request.parameters["key"]!) else { throw HTTPError.notFound("no key \(request.parameters["key"]!)") }
            return Response(status: 200, headers: Headers([("ETag", "\"\(entry.version)\"")]), body: entry.value)
        }
        try context.routes.delete("/api/v1/kv/:key") { request async throws in
            let existed = try await storage.delete(request.parameters["key"]!, expectedVersion: request.query["expected_version"].flatMap { Int64($0) })
            return .empty(status: existed ? 204 : 404)
        }
        try context.routes.get("/api/v1/kv") { request async throws in
            let entries = try await storage.list(prefix: request.query["prefix"] ?? "")
            return try .json(entries.map(\.key))
        }
    }

    public func start() async throws {
        try await context.storage.migrate([SQLMigration(version: 1, sql: "CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT NOT NULL)",
                                                        postgresql: "CREATE TABLE notes(id BIGSERIAL PRIMARY KEY, body TEXT NOT NULL)")])
    }
}
