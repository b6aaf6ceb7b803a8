import Foundation
import PlexusTesting
import XCTest

/// A plugin route never receives the credential the gateway consumed (`Authorization`,
/// `X-API-Key`) unless `[auth] forward_credentials` names it: the C fixture `echo-headers-c`
/// answers with every header it was handed, over the real binary and real sockets.
final class CredentialStrippingTests: XCTestCase {
    private static let path = "/api/v1/c/headers"

    private func echo(_ plexus: TestRuntime, _ headers: String) throws -> (status: Int, lines: [String]) {
        let response = try TestClient.get(Self.path, port: plexus.port, headers: headers)
        return (response.status, response.text.split(separator: "\n").map { String($0).lowercased() })
    }

    func testPluginRouteNeverSeesTheAdminKeyOrAnAPIKey() throws {
        let plexus = try Repository.startPlexus(swiftPlugins: [], cFixtures: ["echo-headers-c"])
        let admin = plexus.adminKey
        XCTAssertFalse(admin.isEmpty)
        let key = try plexus.createAPIKey(name: "echo-caller")

        let cases = [
            ("the admin key as a bearer token", "Authorization: Bearer \(admin)\r\n"),
            ("the scheme and name in other cases", "AUTHORIZATION: bearer \(admin)\r\n"),
            ("an API key in X-API-Key", "X-API-Key: \(key)\r\n"),
            ("an API key in x-api-key", "x-api-key: \(key)\r\n"),
            ("an API key as a bearer token", "Authorization: Bearer \(key)\r\n"),
        ]
        for (label, credential) in cases {
            let (status, lines) = try echo(plexus, credential + "X-Custom: kept\r\nCookie: theme=dark\r\nUser-Agent: echo-test\r\n")
            XCTAssertEqual(status, 200, "\(label): the credential was accepted")
            XCTAssertTrue(lines.contains("x-custom: kept"), "\(label): other headers reach the plugin: \(lines)")
            XCTAssertTrue(lines.contains("cookie: theme=dark"), "\(label): the gateway uses no cookie, so Cookie is passed on")
            XCTAssertTrue(lines.contains("user-agent: echo-test"), label)
            XCTAssertFalse(lines.contains { $0.hasPrefix("authorization:") || $0.hasPrefix("x-api-key:") }, "\(label): \(lines)")
            XCTAssertFalse(lines.joined().contains(admin.lowercased()), "\(label): the admin key reached the plugin")
            XCTAssertFalse(lines.joined().contains(key.lowercased()), "\(label): the API key reached the plugin")
        }
        // Both at once, on one keep-alive connection twice (the second request reuses the exchange).
        let client = try TestClient(port: plexus.port)
        for _ in 0..<2 {
            try client.send("GET \(Self.path) HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer \(admin)\r\nX-API-Key: \(key)\r\nX-Custom: again\r\n\r\n")
            let response = try client.readResponse()
            XCTAssertEqual(response.status, 200, response.text)
            XCTAssertTrue(response.text.contains("X-Custom: again"), response.text)
            XCTAssertFalse(response.text.contains(admin) || response.text.contains(key), response.text)
        }
        XCTAssertEqual(plexus.stop(), 0)
    }

    func testForwardCredentialsNamesTheRoutesThatStillReceiveThem() throws {
        let plexus = try Repository.startPlexus(swiftPlugins: [], cFixtures: ["echo-headers-c", "hello-c"],
                                                extra: "[auth]\nforward_credentials = \"plugin:hello-c, route:get \(Self.path)\"\n")
        let key = try plexus.createAPIKey(name: "forwarded")
        var (status, lines) = try echo(plexus, "Authorization: Bearer \(key)\r\n")
        XCTAssertEqual(status, 200)
        XCTAssertTrue(lines.contains("authorization: bearer \(key.lowercased())"), "\(lines)")
        (status, lines) = try echo(plexus, "X-API-Key: \(key)\r\n")
        XCTAssertEqual(status, 200)
        XCTAssertTrue(lines.contains("x-api-key: \(key.lowercased())"), "\(lines)")
        // The operator's admin key is never forwarded, even to a route the setting names.
        let admin = plexus.adminKey
        for credential in ["Authorization: Bearer \(admin)\r\n", "X-API-Key: \(admin)\r\n", "Authorization: Bearer \(admin)\r\nX-API-Key: \(key)\r\n"] {
            (status, lines) = try echo(plexus, credential)
            XCTAssertEqual(status, 200, credential)
            XCTAssertFalse(lines.joined().contains(admin.lowercased()), "the admin key reached the plugin: \(lines)")
            XCTAssertFalse(lines.contains { $0.hasPrefix("authorization:") || $0.hasPrefix("x-api-key:") }, "\(lines)")
        }
        XCTAssertEqual(plexus.stop(), 0)
    }

    /// Trailer fields of a chunked body come after the head the gateway authenticated: they are
    /// never merged into the plugin's headers (RFC 9110 §6.5.1), neither on a normal route nor on
    /// one `forward_credentials` names (where a trailer `Authorization` would sit next to the
    /// verified one).
    func testTrailerFieldsNeverReachThePlugin() throws {
        for forwarded in [false, true] {
            let extra = forwarded ? "[auth]\nforward_credentials = \"route:get \(Self.path)\"\n" : ""
            let plexus = try Repository.startPlexus(swiftPlugins: [], cFixtures: ["echo-headers-c"], extra: extra)
            let key = try plexus.createAPIKey(name: "trailer-caller")
            let client = try TestClient(port: plexus.port)
            for _ in 0..<2 {  // twice on one connection: the second request reuses the exchange
                try client.send("GET \(Self.path) HTTP/1.1\r\nHost: test\r\nX-API-Key: \(key)\r\nTransfer-Encoding: chunked\r\n\r\n"
                                + "0\r\nAuthorization: Bearer unverified-trailer-token\r\nX-Trailer-Probe: yes\r\n\r\n")
                let response = try client.readResponse()
                XCTAssertEqual(response.status, 200, "forwarded \(forwarded): \(response.text)")
                XCTAssertFalse(response.text.contains("unverified-trailer-token"), "forwarded \(forwarded): \(response.text)")
                XCTAssertFalse(response.text.lowercased().contains("x-trailer-probe"), "forwarded \(forwarded): \(response.text)")
                XCTAssertTrue(response.text.lowercased().contains("transfer-encoding: chunked"), "the head's fields still arrive: \(response.text)")
                if forwarded { XCTAssertTrue(response.text.contains(key), "the verified key is forwarded: \(response.text)") }
            }
            XCTAssertEqual(plexus.stop(), 0)
        }
    }
}
