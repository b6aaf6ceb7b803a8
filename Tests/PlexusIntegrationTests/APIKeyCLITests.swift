import Foundation
import PlexusTesting
import XCTest

/// `plexus apikey create|list|revoke` against the data directory of a running runtime: the key is
/// shown once, stored as a digest, and the runtime honours a creation or a revocation within seconds.
final class APIKeyCLITests: XCTestCase {
    private func eventually(_ seconds: Double = 5, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        repeat {
            if try condition() { return true }
            usleep(100_000)
        } while Date() < deadline
        return false
    }

    func testCLIKeysReachTheRunningRuntimeAndRevocationLocksThemOut() throws {
        let plexus = try Repository.startPlexus()
        defer { _ = plexus.stop() }
        let data = plexus.workDirectory.appendingPathComponent("data").path
        let created = try CLI.run(["apikey", "create", "--data", data, "--name", "billing", "--tenant", "acme", "--roles", "reader,writer"])
        XCTAssertEqual(created.status, 0, created.text)
        let key = try XCTUnwrap(created.text.split(separator: "\n").first { $0.hasPrefix("plx_") }.map(String.init), created.text)

        let whoami = { try plexus.get("/api/v1/whoami", headers: "Authorization: Bearer \(key)\r\n") }
        XCTAssertTrue(try eventually { try whoami().status == 200 }, "the running runtime never accepted the new key")
        let identity = try JSONSerialization.jsonObject(with: Data(try whoami().body)) as? [String: Any]
        XCTAssertEqual(identity?["subject"] as? String, "billing")
        XCTAssertEqual(identity?["tenant"] as? String, "acme")
        XCTAssertEqual(identity?["roles"] as? [String], ["reader", "writer"])
        XCTAssertEqual(try plexus.get("/api/v1/whoami", headers: "X-API-Key: \(key)\r\n").status, 200)

        let listing = try CLI.run(["apikey", "list", "--data", data])
        XCTAssertTrue(listing.text.contains("billing"), listing.text)
        XCTAssertFalse(listing.text.contains(key), "a key is shown once, never listed")
        let database = try Data(contentsOf: plexus.workDirectory.appendingPathComponent("data/runtime/gateway.sqlite"))
        XCTAssertNil(database.range(of: Data(key.utf8)), "only a digest of the key is stored")

        let revoked = try CLI.run(["apikey", "revoke", "--data", data, "billing"])
        XCTAssertEqual(revoked.status, 0, revoked.text)
        XCTAssertTrue(try eventually { try whoami().status == 401 }, "the revoked key still works")
        let again = try CLI.run(["apikey", "revoke", "--data", data, "billing"])
        XCTAssertNotEqual(again.status, 0)
        XCTAssertTrue(again.text.contains("billing"), again.text)
    }
}
