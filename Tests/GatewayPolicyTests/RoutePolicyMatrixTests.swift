import Foundation
import PlexusFixtureGuards
import PlexusSDK
import PlexusTesting
import XCTest

/// The logic of the gateway's route rules as a matrix of callers and routes: one body, run
/// in-process (TestHost's rules in memory) and live (the real gateway with API keys), so the two
/// cannot drift apart. Credentials on the wire (JWT forgery, key headers) stay in GatewayTests.
final class RoutePolicyMatrixTests: XCTestCase {
    static let plain = TestCaller("plain-caller")
    static let editor = TestCaller("editor-caller", roles: ["viewer", "publisher"])
    static let oneScope = TestCaller("one-scope-caller", scopes: ["reports:read"])
    static let bothScopes = TestCaller("both-scopes-caller", scopes: ["reports:export", "reports:read"])
    static let acme = TestCaller("acme-caller", tenant: "acme")
    static let globex = TestCaller("globex-caller", tenant: "globex")

    func testMatrixInProcess() async throws { try await matrix(try await TestHost.start(GuardsPlugin.self)) }
    func testMatrixLive() async throws { try await matrix(try LiveGuards.client()) }

    func matrix(_ client: some PluginTestClient) async throws {
        let cases: [(TestCaller?, String, Int)] = [
            (nil, "/api/v1/guards/open", 200),
            (nil, "/api/v1/guards/member", 401),
            (nil, "/api/v1/guards/editor", 401),
            (nil, "/api/v1/guards/reports", 401),
            (nil, "/api/v1/guards/tenants/acme/notes", 401),
            (Self.plain, "/api/v1/guards/open", 200),
            (Self.plain, "/api/v1/guards/member", 200),
            (Self.plain, "/api/v1/guards/editor", 403),
            (Self.plain, "/api/v1/guards/reports", 403),
            (Self.plain, "/api/v1/guards/tenants/acme/notes", 403),
            (Self.editor, "/api/v1/guards/editor", 200),
            (Self.oneScope, "/api/v1/guards/reports", 403),
            (Self.bothScopes, "/api/v1/guards/reports", 200),
            (Self.acme, "/api/v1/guards/tenants/acme/notes", 200),
            (Self.acme, "/api/v1/guards/tenants/globex/notes", 403),
            (Self.globex, "/api/v1/guards/tenants/acme/notes", 403),
            (Self.acme, "/api/v1/guards/member", 200),
        ]
        for (caller, path, status) in cases {
            let response = try await client.get(path, caller: caller)
            XCTAssertEqual(response.status, status, "\(caller?.subject ?? "anonymous") GET \(path): \(response.text)")
            if status == 401 { XCTAssertNotNil(response.header("WWW-Authenticate"), path) }
        }
        // Other spellings of another tenant's path never get through.
        for path in ["/api/v1/guards/tenants/GLOBEX/notes", "/api/v1/guards/tenants/%67lobex/notes",
                     "/api/v1/guards/tenants/acme/../globex/notes", "/api/v1/guards/tenants/globex%00/notes"] {
            let response = try await client.get(path, caller: Self.acme)
            XCTAssertFalse((200..<300).contains(response.status), "\(path): \(response.status) \(response.text)")
        }
        // The tenant reaches the handler; an anonymous caller of a public route has none.
        let own = try await client.get("/api/v1/guards/tenants/acme/notes", caller: Self.acme)
        XCTAssertEqual(own.text, "notes of acme at acme\n")
        let anonymous = try await client.get("/api/v1/guards/open")
        XCTAssertEqual(anonymous.text, "anonymous -\n")
        let member = try await client.get("/api/v1/guards/member", caller: Self.acme)
        XCTAssertEqual(member.text, "caller acme\n")
        // The route's body bound.
        let fits = try await client.send(.post, "/api/v1/guards/upload", body: Array(repeating: 7, count: 16))
        XCTAssertEqual(fits.text, "16 bytes\n")
        let tooLarge = try await client.send(.post, "/api/v1/guards/upload", body: Array(repeating: 7, count: 17))
        XCTAssertEqual(tooLarge.status, 413)
    }
}

/// The built `plexus` binary and the guards fixture (`$PLEXUS_BIN_DIR`, else this checkout's `.build/debug`).
enum LiveGuards {
    static func client() throws -> LiveTestClient {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let bin = URL(fileURLWithPath: ProcessInfo.processInfo.environment["PLEXUS_BIN_DIR"] ?? root.appendingPathComponent(".build/debug").path)
        let binary = bin.appendingPathComponent("plexus"), plugin = bin.appendingPathComponent("libPlexusFixtureGuards.so")
        for file in [binary, plugin] where !FileManager.default.fileExists(atPath: file.path) {
            throw TestFailure("no \(file.path): run `swift build` first (or set PLEXUS_BIN_DIR)")
        }
        return LiveTestClient(runtime: try TestRuntime(binary: binary, plugins: [plugin]))
    }
}
