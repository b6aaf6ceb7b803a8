import Foundation
import PlexusFixtureNotes
import PlexusSDK
import PlexusTesting
import XCTest

/// The notes fixture's storage contract (SQL with a migration, key-value with versions, the SQL
/// sandbox), one test body run in-process over `TestHost` (real in-memory SQLite) and live.
final class NotesPluginTests: XCTestCase {
    static let writer = TestCaller("writer-1", roles: ["writer"])

    func testSQLInProcess() async throws { try await sql(try await TestHost.start(NotesPlugin.self)) }
    func testSQLLive() async throws { try await sql(try LiveBinary.client(plugin: "libPlexusFixtureNotes.so")) }

    func testKeyValueInProcess() async throws { try await keyValue(try await TestHost.start(NotesPlugin.self)) }
    func testKeyValueLive() async throws { try await keyValue(try LiveBinary.client(plugin: "libPlexusFixtureNotes.so")) }

    func testSandboxInProcess() async throws { try await sandbox(try await TestHost.start(NotesPlugin.self)) }
    func testSandboxLive() async throws { try await sandbox(try LiveBinary.client(plugin: "libPlexusFixtureNotes.so")) }

    /// Rows written through one route are read through another; an update of a missing row is a 404.
    func sql(_ client: some PluginTestClient) async throws {
        var response = try await client.get("/api/v1/notes")
        XCTAssertEqual(response.status, 401)
        response = try await client.send(.post, "/api/v1/notes", body: Array("first".utf8), caller: Self.writer)
        XCTAssertEqual(response.status, 201, response.text)
        let id = try XCTUnwrap(try response.decode([String: Int64].self)["id"])
        response = try await client.send(.put, "/api/v1/notes/\(id)", body: Array("changed".utf8), caller: Self.writer)
        XCTAssertEqual(response.status, 204, response.text)
        response = try await client.send(.put, "/api/v1/notes/999", body: Array("x".utf8), caller: Self.writer)
        XCTAssertEqual(response.status, 404)
        response = try await client.send(.post, "/api/v1/notes/bulk?count=3&size=4", caller: Self.writer)
        XCTAssertEqual(response.status, 201)
        response = try await client.get("/api/v1/notes", caller: Self.writer)
        let notes = try response.decode([[String: String]].self)
        XCTAssertEqual(notes.map { $0["body"] }, ["changed", "xxxx", "xxxx", "xxxx"])
    }

    /// Versions count from 1, compare-and-set refuses a stale version with 409, listing is by prefix.
    func keyValue(_ client: some PluginTestClient) async throws {
        var response = try await client.send(.put, "/api/v1/kv/colour", body: Array("red".utf8), caller: Self.writer)
        XCTAssertEqual(try response.decode([String: Int64].self)["version"], 1)
        response = try await client.send(.put, "/api/v1/kv/colour?expected_version=1", body: Array("blue".utf8), caller: Self.writer)
        XCTAssertEqual(try response.decode([String: Int64].self)["version"], 2)
        response = try await client.send(.put, "/api/v1/kv/colour?expected_version=1", body: Array("green".utf8), caller: Self.writer)
        XCTAssertEqual(response.status, 409, response.text)
        XCTAssertTrue(response.text.contains("version 2"), response.text)
        response = try await client.get("/api/v1/kv/colour", caller: Self.writer)
        XCTAssertEqual(response.text, "blue")
        XCTAssertEqual(response.header("ETag"), "\"2\"")
        _ = try await client.send(.put, "/api/v1/kv/column", body: [1], caller: Self.writer)
        _ = try await client.send(.put, "/api/v1/kv/shape", body: [2], caller: Self.writer)
        response = try await client.get("/api/v1/kv?prefix=col", caller: Self.writer)
        XCTAssertEqual(try response.decode([String].self), ["colour", "column"])
        response = try await client.send(.delete, "/api/v1/kv/colour", caller: Self.writer)
        XCTAssertEqual(response.status, 204)
        response = try await client.send(.delete, "/api/v1/kv/colour", caller: Self.writer)
        XCTAssertEqual(response.status, 404)
    }

    /// Plugin SQL may not reach other files, take over transactions or touch the engine's tables;
    /// bad SQL is the client's 400, a constraint a 409.
    func sandbox(_ client: some PluginTestClient) async throws {
        for statement in ["ATTACH DATABASE '/tmp/other.db' AS other", "BEGIN", "PRAGMA journal_mode=DELETE",
                          "SELECT * FROM _plexus_migrations", "SELEC 1"] {
            let response = try await client.send(.post, "/api/v1/notes/sql", body: Array(statement.utf8), caller: Self.writer)
            XCTAssertEqual(response.status, 400, "\(statement): \(response.text)")
        }
        var response = try await client.send(.post, "/api/v1/notes/sql", body: Array("CREATE TABLE tags(name TEXT UNIQUE)".utf8), caller: Self.writer)
        XCTAssertEqual(response.status, 204, response.text)
        response = try await client.send(.post, "/api/v1/notes/sql", body: Array("INSERT INTO tags VALUES ('a')".utf8), caller: Self.writer)
        XCTAssertEqual(response.status, 204, response.text)
        response = try await client.send(.post, "/api/v1/notes/sql", body: Array("INSERT INTO tags VALUES ('a')".utf8), caller: Self.writer)
        XCTAssertEqual(response.status, 409, response.text)
    }
}

/// The built `plexus` binary and plugin libraries (`$PLEXUS_BIN_DIR`, else this checkout's `.build/debug`).
enum LiveBinary {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let binDirectory = URL(fileURLWithPath: ProcessInfo.processInfo.environment["PLEXUS_BIN_DIR"] ?? root.appendingPathComponent(".build/debug").path)

    static func client(plugin name: String, configs: [String: String] = [:]) throws -> LiveTestClient {
        let binary = binDirectory.appendingPathComponent("plexus")
        let plugin = binDirectory.appendingPathComponent(name)
        for file in [binary, plugin] where !FileManager.default.fileExists(atPath: file.path) {
            throw TestFailure("no \(file.path): run `swift build` first (or set PLEXUS_BIN_DIR)")
        }
        return LiveTestClient(runtime: try TestRuntime(binary: binary, plugins: [plugin], pluginConfigs: configs))
    }
}
