import Foundation
import PlexusSDK
@testable import PlexusTesting
import XCTest

/// A plugin that answers with the header names and values its handler was given.
@PluginActor
final class HeaderEchoPlugin: Plugin {
    static let manifest = PluginManifest(name: "header-echo", version: "1.0.0", description: "test: echoes request headers")

    init(context: PluginContext) throws {
        try context.routes.get("/api/v1/headers", options: .public) { request in
            .text(request.headers.fields.map { "\($0.name): \($0.value)\n" }.joined())
        }
    }
}

/// `TestHost` leaves out the credentials the gateway consumes, as the runtime does
/// (`CredentialStrippingTests` checks the runtime over the wire).
final class TestHostCredentialTests: XCTestCase {
    func testHandlersDoNotReceiveTheGatewaysCredentialsUnlessForwarded() async throws {
        _ = InProcessLoop.shared   // binds the plugin actor to the test loop before any job
        try await Self.run()
    }

    @PluginActor
    static func run() async throws {
        let host = try await TestHost.start(HeaderEchoPlugin.self)
        let sent = [("Authorization", "Bearer plx_secret"), ("x-API-key", "plx_other"), ("X-Custom", "kept"), ("Cookie", "theme=dark")]
        let stripped = try await host.get("/api/v1/headers", headers: sent)
        XCTAssertEqual(stripped.status, 200)
        XCTAssertEqual(stripped.text, "X-Custom: kept\nCookie: theme=dark\n")
        host.forwardsCredentials = true
        let forwarded = try await host.get("/api/v1/headers", headers: sent)
        XCTAssertEqual(forwarded.text, "Authorization: Bearer plx_secret\nx-API-key: plx_other\nX-Custom: kept\nCookie: theme=dark\n")
        await host.stop()
    }

    /// TestHost compares header names in ASCII case only, as the runtime does.
    func testCredentialNamesCompareInASCIICaseOnly() {
        XCTAssertTrue(TestHost<HeaderEchoPlugin>.isCredential("AUTHORIZATION"))
        XCTAssertTrue(TestHost<HeaderEchoPlugin>.isCredential("x-Api-Key"))
        XCTAssertFalse(TestHost<HeaderEchoPlugin>.isCredential("X-API-\u{212A}EY"), "the Kelvin sign lower-cases to k, but the runtime does not match it")
        XCTAssertFalse(TestHost<HeaderEchoPlugin>.isCredential("x-api-keys"))
        XCTAssertFalse(TestHost<HeaderEchoPlugin>.isCredential(""))
    }
}
