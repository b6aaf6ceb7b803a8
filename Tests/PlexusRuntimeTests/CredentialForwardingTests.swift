@testable import PlexusRuntime
import XCTest

/// `[auth] forward_credentials`: which plugin routes still receive the credentials the gateway
/// consumed (the live test, `CredentialStrippingTests`, checks what a plugin really receives).
final class CredentialForwardingTests: XCTestCase {
    private func config(_ text: String) throws -> RuntimeConfig {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("cf-\(UUID().uuidString).toml")
        try text.write(to: url, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: url) }
        return try RuntimeConfig(file: url)
    }

    func testNoRouteReceivesCredentialsByDefault() throws {
        XCTAssertEqual(try config("").gateway.auth.forwardCredentials, [])
        let plugins = PipelineFixture.Plugins()
        let (route, _) = plugins.add("GET", "/api/v1/a", for: plugins.plugin("a"))
        var forwarding = CredentialForwarding()
        XCTAssertFalse(forwarding.forwards(to: try XCTUnwrap(route)))
    }

    func testPluginAndRouteSelectorsPickTheirRoutesOnly() throws {
        let selectors = try config("[auth]\nforward_credentials = \"plugin:legacy, route:post /api/v1/b/:id\"\n").gateway.auth.forwardCredentials
        XCTAssertEqual(selectors, [.plugin("legacy"), .route(method: "POST", pattern: "/api/v1/b/:id")])
        let plugins = PipelineFixture.Plugins()
        let legacy = plugins.plugin("legacy"), other = plugins.plugin("other")
        let legacyRoute = try XCTUnwrap(plugins.add("GET", "/api/v1/legacy", for: legacy).0)
        let postB = try XCTUnwrap(plugins.add("POST", "/api/v1/b/:id", for: other).0)
        let getB = try XCTUnwrap(plugins.add("GET", "/api/v1/b/:id", for: other).0)
        let otherRoute = try XCTUnwrap(plugins.add("GET", "/api/v1/other", for: other).0)
        var forwarding = CredentialForwarding(selectors: selectors)
        for _ in 0..<2 { // the second pass answers from the table kept by route id
            XCTAssertTrue(forwarding.forwards(to: legacyRoute))
            XCTAssertTrue(forwarding.forwards(to: postB))
            XCTAssertFalse(forwarding.forwards(to: getB), "another method of the same pattern")
            XCTAssertFalse(forwarding.forwards(to: otherRoute))
        }
        var all = CredentialForwarding(selectors: try CredentialForwarding.parse("*"))
        XCTAssertTrue(all.forwards(to: otherRoute))
        // Selectors that match no route are reported (the pipeline logs a warning at mount).
        let routes = [legacyRoute, postB, getB, otherRoute]
        XCTAssertEqual(forwarding.unmatched(by: routes), [])
        let misspelt = CredentialForwarding(selectors: try CredentialForwarding.parse("plugin:legacyy, route:DELETE /api/v1/b/:id, plugin:other"))
        XCTAssertEqual(misspelt.unmatched(by: routes), ["plugin:legacyy", "route:DELETE /api/v1/b/:id"])
    }

    func testConsumedHeaderNamesMatchInAnyCaseAndOnlyThem() {
        func consumed(_ name: String) -> Bool { Array(name.utf8).withUnsafeBytes { CredentialForwarding.isConsumed($0) } }
        for name in CredentialForwarding.consumedHeaders {
            let text = name.description
            XCTAssertTrue(consumed(text), text)
            XCTAssertTrue(consumed(text.uppercased()), text)
        }
        XCTAssertTrue(consumed("X-Api-Key"))
        for name in ["Proxy-Authorization", "authorizations", "authorizatio", "x-api-keys", "Cookie", "X-API", ""] {
            XCTAssertFalse(consumed(name), name)
        }
    }

    func testBadEntriesAreRefusedNamingTheEntry() {
        for text in ["everything", "plugin:", "route:GET", "route:GET api/v1/x", "route: /x", "tenant:acme"] {
            do {
                _ = try config("[auth]\nforward_credentials = \"\(text)\"\n")
                XCTFail("'\(text)' was accepted")
            } catch {
                XCTAssertTrue("\(error)".contains("auth.forward_credentials"), "\(error)")
                XCTAssertTrue("\(error)".contains("is not \"*\", \"plugin:NAME\" or \"route:METHOD /pattern\""), "\(error)")
            }
        }
        XCTAssertEqual(try? CredentialForwarding.parse(" , "), [], "an empty list forwards to nobody")
        XCTAssertEqual(try? CredentialForwarding.parse("plugin: legacy "), [.plugin("legacy")], "spaces around a plugin name are trimmed")
        XCTAssertThrowsError(try CredentialForwarding.parse("plugin:   "), "a name of spaces is no name")
    }

    /// The admin key's names (its own, and the shared-store form) are recognised, and no other.
    func testAdminKeyNamesAreRecognisedExactly() throws {
        XCTAssertTrue(AdminKey.isAdminKeyName(AdminKey.keyName))
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("plexus-admin-name-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: data) }
        XCTAssertTrue(AdminKey.isAdminKeyName(try XCTUnwrap(try? AdminKey.keyName(sharedBy: data))))
        XCTAssertTrue(AdminKey.isAdminKeyName("plexus-admin-0123abcd"), "the form of earlier versions")
        for name in ["plexus-admin-", "plexus-admin-1234567", "plexus-admin-123456789", "plexus-admin-ABCDEF01",
                     "plexus-admin-0123456789abcde", "plexus-admin-0123456789abcdef0", "plexus-admin-0123456789ABCDEF",
                     "plexus-admin-12345g78", "plexus-administrator", "Plexus-Admin", "echo-caller", ""] {
            XCTAssertFalse(AdminKey.isAdminKeyName(name), name)
        }
    }

    /// Two instances with the same host name and data directory path (containers of one image
    /// with a fixed `hostname:`) get different admin key names: the name comes from the random
    /// instance id kept in the data directory, not from the host and path. The id, and so the
    /// name, survives restarts; a file that holds no id is refused, naming it.
    func testAdminKeyNamesComeFromTheStoredInstanceIDNotHostAndPath() throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("plexus-instance-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: data) }
        let first = try AdminKey.keyName(sharedBy: data)
        XCTAssertEqual(try AdminKey.keyName(sharedBy: data), first, "stable across restarts")
        let stored = try String(contentsOf: InstanceID.file(in: data), encoding: .utf8)
        XCTAssertEqual(first, "plexus-admin-" + stored.trimmingCharacters(in: .newlines))
        // Another container: same host, same path, its own (fresh) data directory.
        try FileManager.default.removeItem(at: data)
        let second = try AdminKey.keyName(sharedBy: data)
        XCTAssertNotEqual(second, first)
        XCTAssertTrue(AdminKey.isAdminKeyName(second))
        // The id was linked into place whole: no temporary file is left beside it.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: InstanceID.file(in: data).deletingLastPathComponent().path)
                        .filter { $0.hasPrefix("instance-id") }, ["instance-id"])
        // Processes starting together on one directory agree on one id.
        try FileManager.default.removeItem(at: data)
        let names = ConcurrentNames()
        DispatchQueue.concurrentPerform(iterations: 8) { _ in names.add(try? AdminKey.keyName(sharedBy: data)) }
        XCTAssertEqual(names.all.count, 8)
        XCTAssertEqual(Set(names.all.compactMap { $0 }).count, 1, "\(names.all)")
        // A damaged id file is not silently replaced.
        try "not an id\n".write(to: InstanceID.file(in: data), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try AdminKey.keyName(sharedBy: data)) { error in
            XCTAssertTrue("\(error)".contains("instance-id"), "\(error)")
        }
    }
}

/// Names collected from several threads.
private final class ConcurrentNames: @unchecked Sendable {
    private let lock = NSLock()
    private var names: [String?] = []
    func add(_ name: String?) { lock.withLock { names.append(name) } }
    var all: [String?] { lock.withLock { names } }
}
