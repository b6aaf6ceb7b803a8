import Foundation
import PlexusStorage
import XCTest

@testable import PlexusAuth

/// API keys in a real SQLite file: create, look up, revoke, and a second process's changes.
final class APIKeyTests: XCTestCase {
    var directory: URL!
    var path: String { directory.appendingPathComponent("runtime/gateway.sqlite").path }

    override func setUpWithError() throws {
        directory = try makeTemporaryDirectory()
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func testCreateReturnsThePlaintextOnceAndStoresOnlyItsHash() async throws {
        let store = try await APIKeyStore.open(path: path)
        let (record, plaintext) = try await store.create(name: "billing job", tenant: "acme", roles: ["billing"], scopes: ["invoices:read"])
        XCTAssertTrue(APIKeyFormat.matches(plaintext[...]))
        XCTAssertEqual(plaintext.count, APIKeyFormat.keyLength)
        XCTAssertTrue(plaintext.hasPrefix("plx_\(record.id)_"))
        XCTAssertEqual(record.hint, String(plaintext.suffix(4)))
        XCTAssertFalse(record.isRevoked)
        let second = try await store.create(name: "other")
        XCTAssertNotEqual(second.plaintext, plaintext)
        XCTAssertNotEqual(second.record.id, record.id)
        await store.close()

        // Scan the database, its WAL and shared-memory files for the secret.
        let secret = String(plaintext.dropFirst(APIKeyFormat.prefix.count + APIKeyFormat.idLength + 1))
        var scanned = 0
        for suffix in ["", "-wal", "-shm"] {
            guard let bytes = FileManager.default.contents(atPath: path + suffix) else { continue }
            scanned += bytes.count
            for needle in [plaintext, secret, String(secret.prefix(16)), second.plaintext] {
                XCTAssertNil(bytes.range(of: Data(needle.utf8)), "\(needle) found in \(path + suffix)")
            }
        }
        XCTAssertGreaterThan(scanned, 0)
        // The hash is what is there.
        let hash = APIKeyFormat.hex(APIKeyFormat.digest(plaintext[...]))
        let all = [path, path + "-wal"].compactMap { FileManager.default.contents(atPath: $0) }
        XCTAssertTrue(all.contains { $0.range(of: Data(hash.utf8)) != nil })
    }

    func testLookupWorksAfterRefresh() async throws {
        let store = try await APIKeyStore.open(path: path)
        let keys = APIKeyDirectory(store: store)
        let (record, plaintext) = try await store.create(name: "ci", tenant: "acme", roles: ["deployer"], scopes: ["deploy", "read"])
        // Not loaded yet: unknown.
        assertAuthError(.unknownAPIKey) { () throws(AuthError) in try keys.identify(plaintext) }
        XCTAssertNil(keys.generation)
        let loaded = try await keys.refresh()
        XCTAssertTrue(loaded)
        let identity = try keys.identify(plaintext)
        XCTAssertEqual(
            identity,
            Identity(subject: "ci", tenant: "acme", roles: ["deployer"], scopes: ["deploy", "read"], method: .apiKey, keyID: record.id))
        XCTAssertEqual(keys.activeKeyCount, 1)
        // Nothing changed: the refresh only reads the generation.
        let reloaded = try await keys.refresh()
        XCTAssertFalse(reloaded)
        // A key inside a longer header value.
        let header = "Bearer \(plaintext)"
        XCTAssertEqual(try keys.identify(BearerToken.token(fromAuthorization: header)!).subject, "ci")
        await store.close()
    }

    func testRevokeThenRefreshRefusesTheKey() async throws {
        let store = try await APIKeyStore.open(path: path)
        let keys = APIKeyDirectory(store: store)
        let first = try await store.create(name: "temp", roles: ["reader"])
        let second = try await store.create(name: "kept")
        try await keys.refresh()
        XCTAssertNoThrow(try keys.identify(first.plaintext))
        // What a connection remembers of a verified key: the key is found again by its id and
        // digest, and only with the digest of that key.
        let verified = try keys.verify(first.plaintext[...])
        XCTAssertEqual(verified.id, first.record.id)
        XCTAssertEqual(verified.identity.subject, "temp")
        XCTAssertEqual(keys.identify(id: verified.id, digest: verified.digest), verified.identity)
        let secondDigest = try keys.verify(second.plaintext[...]).digest
        XCTAssertNil(keys.identify(id: verified.id, digest: secondDigest), "another key's digest")
        XCTAssertNil(keys.identify(id: verified.id, digest: []), "no digest")
        XCTAssertNil(keys.identify(id: "000000000000", digest: verified.digest), "an unknown id")

        let revoked = try await store.revoke(idOrName: "temp", now: 1_795_305_600)
        XCTAssertEqual(revoked.id, first.record.id)
        XCTAssertEqual(revoked.revokedAt, 1_795_305_600)
        // Until the next refresh the old snapshot answers (the documented revocation delay).
        XCTAssertNoThrow(try keys.identify(first.plaintext))
        try await keys.refresh()
        let error = assertAuthError(.revokedAPIKey) { () throws(AuthError) in try keys.identify(first.plaintext) }
        XCTAssertEqual(error?.description, "API key 'temp' (id \(first.record.id)) was revoked at 2026-11-22T00:00:00Z")
        XCTAssertNil(keys.identify(id: verified.id, digest: verified.digest), "a revoked key is not found by its id and digest either")
        XCTAssertNoThrow(try keys.identify(second.plaintext))

        await assertAuthErrorAsync(.alreadyRevoked) { () async throws(AuthError) in try await store.revoke(idOrName: first.record.id) }
        await assertAuthErrorAsync(.alreadyRevoked) { () async throws(AuthError) in try await store.revoke(idOrName: "temp") }
        await assertAuthErrorAsync(.notFound) { () async throws(AuthError) in try await store.revoke(idOrName: "nobody") }
        // By id, and the name is free again once its key is revoked.
        try await store.revoke(idOrName: second.record.id)
        let again = try await store.create(name: "temp")
        let list = try await store.list()
        XCTAssertEqual(list.map(\.name), ["temp", "kept", "temp"])
        XCTAssertEqual(list.map(\.isRevoked), [true, true, false])
        XCTAssertEqual(list.last?.id, again.record.id)
        await store.close()
    }

    func testUnknownMalformedAndTamperedKeysAreRefused() async throws {
        let store = try await APIKeyStore.open(path: path)
        let keys = APIKeyDirectory(store: store)
        let (record, plaintext) = try await store.create(name: "svc")
        try await keys.refresh()

        // The right id with another secret.
        var tampered = Array(plaintext.utf8)
        tampered[tampered.count - 5] = tampered[tampered.count - 5] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        let tamperedKey = String(decoding: tampered, as: UTF8.self)
        let error = assertAuthError(.unknownAPIKey) { () throws(AuthError) in try keys.identify(tamperedKey) }
        XCTAssertEqual(error?.description, "unknown API key (id \(record.id))")
        // A well-formed key that was never issued.
        let (_, stranger) = APIKeyFormat.generate()
        assertAuthError(.unknownAPIKey) { () throws(AuthError) in try keys.identify(stranger) }
        // Another key's id on this secret.
        let (otherID, _) = APIKeyFormat.generate()
        let moved = plaintext.replacingOccurrences(of: record.id, with: otherID)
        assertAuthError(.unknownAPIKey) { () throws(AuthError) in try keys.identify(moved) }
        let allButLast = String(plaintext.dropLast()), allButTwo = String(plaintext.dropLast(2))
        let afterPrefix = String(plaintext.dropFirst(4)), afterFirstHex = String(plaintext.dropFirst(5))
        var malformed: [String] = ["", "plx_", allButLast, plaintext + "x", plaintext.uppercased()]
        malformed += [plaintext.replacingOccurrences(of: "plx_", with: "pk_x"), "plx_\(record.id)-" + plaintext.suffix(43)]
        // A non-hex id, bytes outside base64url, a non-ASCII character of the right byte length, the prefix's case.
        malformed += ["plx_g" + afterFirstHex, allButLast + "=", allButLast + "+", allButTwo + "\u{e9}", "Plx_" + afterPrefix]
        for text in malformed {
            assertAuthError(.malformed, { () throws(AuthError) in try keys.identify(text) })
        }
        // The id of a key inside a longer value is read from the key's own bytes.
        let value = "Bearer " + plaintext + " trailing"
        let start = value.index(value.startIndex, offsetBy: 7)
        XCTAssertEqual(APIKeyFormat.id(of: value[start..<value.index(start, offsetBy: plaintext.count)]).map(String.init), record.id)
        XCTAssertTrue(APIKeyFormat.hasPrefix(plaintext))
        XCTAssertFalse(APIKeyFormat.hasPrefix("plx"))
        XCTAssertFalse(APIKeyFormat.hasPrefix("eyJhbGciOi.plx_"))
        await store.close()
    }

    func testAKeyCreatedByAnotherStoreIsSeenAfterRefresh() async throws {
        let runtime = try await APIKeyStore.open(path: path)
        let keys = APIKeyDirectory(store: runtime)
        try await keys.refresh()
        XCTAssertEqual(keys.activeKeyCount, 0)

        // The CLI: its own connection to the same file.
        let cli = try await APIKeyStore.open(path: path)
        let (_, plaintext) = try await cli.create(name: "from-cli", tenant: "t1")
        await cli.close()

        // The completion form, as the runtime's timer uses it.
        let refreshed = expectation(description: "refresh")
        keys.refresh { result in
            XCTAssertEqual(try? result.get(), true)
            refreshed.fulfill()
        }
        await fulfillment(of: [refreshed], timeout: 10)
        XCTAssertEqual(try keys.identify(plaintext).tenant, "t1")

        let cliAgain = try await APIKeyStore.open(path: path)
        try await cliAgain.revoke(idOrName: "from-cli")
        await cliAgain.close()
        try await keys.refresh()
        assertAuthError(.revokedAPIKey) { () throws(AuthError) in try keys.identify(plaintext) }
        await runtime.close()
    }

    func testCreateValidatesItsArguments() async throws {
        let store = try await APIKeyStore.open(path: path)
        _ = try await store.create(name: "taken")
        await assertAuthErrorAsync(.conflict) { () async throws(AuthError) in try await store.create(name: "taken") }
        await assertAuthErrorAsync(.invalidArgument) { () async throws(AuthError) in try await store.create(name: "") }
        await assertAuthErrorAsync(.invalidArgument) { () async throws(AuthError) in try await store.create(name: " padded") }
        await assertAuthErrorAsync(.invalidArgument) { () async throws(AuthError) in try await store.create(name: "a\nb") }
        await assertAuthErrorAsync(.invalidArgument) { () async throws(AuthError) in try await store.create(name: "r", roles: ["two words"]) }
        await assertAuthErrorAsync(.invalidArgument) { () async throws(AuthError) in try await store.create(name: "t", tenant: "") }
        let list = try await store.list()
        XCTAssertEqual(list.count, 1)
        await store.close()
    }

    func testSharesAnEngineThatIsAlreadyOpen() async throws {
        try FileManager.default.createDirectory(
            at: URL(fileURLWithPath: path).deletingLastPathComponent(), withIntermediateDirectories: true)
        let engine = try await StorageEngine.open(at: path)
        // Another part of the gateway uses migrations on the same file.
        try await engine.migrate([Migration(version: 1, sql: "CREATE TABLE audit (id INTEGER PRIMARY KEY)")])
        let store = try await APIKeyStore.open(engine: engine)
        let (_, plaintext) = try await store.create(name: "shared")
        await store.close()  // leaves the engine open
        let keys = APIKeyDirectory(store: try await APIKeyStore.open(engine: engine))
        try await keys.refresh()
        XCTAssertEqual(try keys.identify(plaintext).subject, "shared")
        let applied = try await engine.migrate([Migration(version: 1, sql: "CREATE TABLE audit (id INTEGER PRIMARY KEY)")])
        XCTAssertEqual(applied, [])
        await engine.close()
    }
}
