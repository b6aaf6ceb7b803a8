import Foundation
@testable import PlexusHello
import PlexusSDK
import PlexusTesting
import XCTest

/// The hello plugin's contract, one test body run two ways: in-process over `TestHost` and live
/// over the real binary (`LiveTestClient` over `TestRuntime`).
final class HelloPluginTests: XCTestCase {
    static let member = TestCaller("member-1", roles: ["member"], tenant: "acme")

    func testGreetingsInProcess() async throws { try await greetings(try await TestHost.start(HelloPlugin.self)) }
    func testGreetingsLive() async throws { try await greetings(try LiveBinary.client(plugin: "libPlexusHello.so")) }

    func testCallerAndBodiesInProcess() async throws { try await callerAndBodies(try await TestHost.start(HelloPlugin.self)) }
    func testCallerAndBodiesLive() async throws { try await callerAndBodies(try LiveBinary.client(plugin: "libPlexusHello.so")) }

    func testBadInputInProcess() async throws { try await badInput(try await TestHost.start(HelloPlugin.self)) }
    func testBadInputLive() async throws { try await badInput(try LiveBinary.client(plugin: "libPlexusHello.so")) }

    /// Public routes: fixed text, a path parameter, a wildcard, a timer-backed delay.
    func greetings(_ client: some PluginTestClient) async throws {
        var response = try await client.get("/api/v1/hello")
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.text, "hello\n")
        response = try await client.get("/api/v1/hello/ada")
        XCTAssertEqual(response.text, "Hello, ada!\n")
        response = try await client.get("/api/v1/files/a/b/c.txt")
        XCTAssertEqual(response.text, "file: a/b/c.txt\n")
        response = try await client.get("/api/v1/hello/delay/20")
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.text, "waited 20 ms\n")
    }

    /// Authenticated routes: the caller's roles and tenant reach the handler; JSON in and out;
    /// off-loop work; the echo keeps body and content type.
    func callerAndBodies(_ client: some PluginTestClient) async throws {
        var response = try await client.get("/api/v1/whoami")
        XCTAssertEqual(response.status, 401, response.text)
        XCTAssertNotNil(response.header("WWW-Authenticate"))
        response = try await client.get("/api/v1/whoami", caller: Self.member)
        XCTAssertEqual(response.status, 200, response.text)
        let whoami = try response.decode(WhoAmI.self)
        XCTAssertEqual(whoami.tenant, "acme")
        XCTAssertEqual(whoami.roles, ["member"])
        XCTAssertFalse(whoami.subject.isEmpty)

        response = try await client.send(.post, "/api/v1/hello/count-words", json: ["text": "one two  three\nfour"], caller: Self.member)
        XCTAssertEqual(response.status, 200, response.text)
        XCTAssertEqual(try response.decode(WordCountResponse.self).words, 4)

        let bytes: [UInt8] = [0, 1, 2, 255, 10, 13]
        response = try await client.send(.post, "/api/v1/echo", headers: [("Content-Type", "application/x-test")], body: bytes, caller: Self.member)
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.body, bytes)
        XCTAssertEqual(response.header("Content-Type"), "application/x-test")
    }

    /// Bad input gets a problem naming what is wrong, and an unknown path a 404.
    func badInput(_ client: some PluginTestClient) async throws {
        var response = try await client.get("/api/v1/hello/delay/soon")
        XCTAssertEqual(response.status, 400)
        XCTAssertTrue(response.text.contains("'ms'"), response.text)
        response = try await client.get("/api/v1/hello/delay/60001")
        XCTAssertEqual(response.status, 400)
        response = try await client.send(.post, "/api/v1/hello/count-words", json: ["text": ""], caller: Self.member)
        XCTAssertEqual(response.status, 422)
        XCTAssertTrue(response.text.contains("'text'"), response.text)
        response = try await client.send(.post, "/api/v1/hello/count-words", headers: [("Content-Type", "application/json")],
                                         body: Array("{\"text\": ".utf8), caller: Self.member)
        XCTAssertEqual(response.status, 400, response.text)
        response = try await client.get("/api/v1/hello-nothing-here")
        XCTAssertEqual(response.status, 404)
    }

    /// In-process only: configuration, health and the plugin's own log.
    func testConfigurationAndHealthInProcess() async throws {
        let host = try await TestHost.start(HelloPlugin.self, config: ["greeting": "Hi", "access": "authenticated"])
        var response = try await host.get("/api/v1/hello/bo")
        XCTAssertEqual(response.text, "Hi, bo!\n")
        response = try await host.get("/api/v1/hello")
        XCTAssertEqual(response.status, 401, "access = authenticated puts the plain greeting behind the gateway")
        _ = try await host.get("/api/v1/hello/cy")
        let health = await host.health()
        XCTAssertEqual(health.detail, "served 2 greetings")
        await host.stop()
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
