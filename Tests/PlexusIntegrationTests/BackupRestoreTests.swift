import Foundation
import PlexusTesting
import XCTest

/// `plexus backup` and `plexus restore` over the real binary: everything an installation needs comes back
/// (API keys, audit log, plugin storage, event log, admin key), and no partial file is ever left behind.
final class BackupRestoreTests: XCTestCase {
    private func json(_ response: TestResponse) -> Any? { try? JSONSerialization.jsonObject(with: Data(response.body)) }

    private func temporaryDirectory(_ label: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("plexus-\(label)-\(UUID().uuidString.prefix(8))")
    }

    /// Names of the entries of `directory` that look like leftovers of an interrupted copy.
    private func partialLeftovers(in directory: URL) -> [String] {
        let names = (FileManager.default.enumerator(atPath: directory.path)?.allObjects as? [String]) ?? []
        return names.filter { $0.contains(".partial") || $0.contains(".restoring") || $0.contains(".replaced") }
    }

    func testRoundTripKeepsKeysAuditLogAndPluginData() throws {
        let parent = temporaryDirectory("backup")
        defer { try? FileManager.default.removeItem(at: parent) }
        let output = parent.appendingPathComponent("backup")
        let key: String, keyTarget: String
        do {
            let plexus = try Repository.startPlexus(swiftPlugins: ["libPlexusFixtureNotes.so", "libPlexusHello.so"], cFixtures: [])
            defer { _ = plexus.stop() }
            key = try plexus.createAPIKey(name: "billing", tenant: "acme", roles: ["reader"])
            keyTarget = String(key.split(separator: "_")[1])
            XCTAssertEqual(try plexus.get("/api/v1/whoami", headers: "Authorization: Bearer \(key)\r\n").status, 200)
            XCTAssertEqual(try plexus.request("POST", "/api/v1/notes", body: Array("kept across a restore".utf8)).status, 201)
            let audit = try plexus.get("/admin/audit")  // also flushes the audit log to its database
            XCTAssertTrue(audit.text.contains(keyTarget), audit.text)
            let data = plexus.workDirectory.appendingPathComponent("data")
            let result = try CLI.run(["backup", "--data", data.path, "--output", output.path])
            XCTAssertEqual(result.status, 0, result.text)
            for file in ["runtime/gateway.sqlite", "runtime/audit.sqlite", "events.sqlite", "admin.key", "plugins/notes/storage.sqlite"] {
                XCTAssertTrue(result.text.contains(file), "\(file) missing from the backup:\n\(result.text)")
                XCTAssertTrue(FileManager.default.fileExists(atPath: output.appendingPathComponent(file).path), file)
            }
            XCTAssertTrue(FileManager.default.fileExists(atPath: output.appendingPathComponent("plexus-backup.json").path))
            XCTAssertEqual(partialLeftovers(in: parent), [])
            // Restoring over the running instance's directory is refused.
            let busy = try CLI.run(["restore", "--from", output.path, "--data", data.path, "--force"])
            XCTAssertEqual(busy.status, 1, busy.text)
            XCTAssertTrue(busy.text.contains("in use"), busy.text)
        }
        // Restore into a new directory and start Plexus on it.
        let work = temporaryDirectory("restored")
        defer { try? FileManager.default.removeItem(at: work) }
        let restored = try CLI.run(["restore", "--from", output.path, "--data", work.appendingPathComponent("data").path])
        XCTAssertEqual(restored.status, 0, restored.text)
        XCTAssertEqual(partialLeftovers(in: work), [])
        let plexus = try Repository.startPlexus(swiftPlugins: ["libPlexusFixtureNotes.so", "libPlexusHello.so"], cFixtures: [], workDirectory: work)
        defer { _ = plexus.stop() }
        let whoami = try plexus.get("/api/v1/whoami", headers: "Authorization: Bearer \(key)\r\n")
        XCTAssertEqual(whoami.status, 200, "the API key made before the backup no longer authenticates: \(whoami.text)")
        XCTAssertEqual((json(whoami) as? [String: Any])?["tenant"] as? String, "acme")
        let notes = try plexus.get("/api/v1/notes")
        XCTAssertTrue(notes.text.contains("kept across a restore"), notes.text)
        let audit = try plexus.get("/admin/audit")
        XCTAssertEqual(audit.status, 200, audit.text)
        XCTAssertTrue(audit.text.contains(keyTarget), "the audit log lost the key's creation: \(audit.text)")
    }

    func testRefusalsAndNoPartialFiles() throws {
        let parent = temporaryDirectory("backup-refusals")
        defer { try? FileManager.default.removeItem(at: parent) }
        let data = parent.appendingPathComponent("data")
        // Plexus data with one damaged database: the backup fails, naming it, and leaves nothing behind.
        let notes = data.appendingPathComponent("plugins/notes")
        try FileManager.default.createDirectory(at: notes, withIntermediateDirectories: true)
        try "plx-admin-test\n".write(to: data.appendingPathComponent("admin.key"), atomically: true, encoding: .utf8)
        try (Data("SQLite format 3\0".utf8) + Data(repeating: 0x5A, count: 8192)).write(to: notes.appendingPathComponent("storage.sqlite"))
        let output = parent.appendingPathComponent("out")
        let failed = try CLI.run(["backup", "--data", data.path, "--output", output.path])
        XCTAssertEqual(failed.status, 1, failed.text)
        XCTAssertTrue(failed.text.contains("plugins/notes/storage.sqlite"), failed.text)
        XCTAssertFalse(failed.text.contains("USAGE"), failed.text)
        XCTAssertFalse(FileManager.default.fileExists(atPath: output.path))
        XCTAssertEqual(partialLeftovers(in: parent), [])
        // Without the damaged file it succeeds, and removes what a backup killed mid-copy left (its process is gone);
        // a second backup into the same place is refused.
        try FileManager.default.removeItem(at: notes)
        let gone = Process()
        gone.executableURL = URL(fileURLWithPath: "/bin/true")
        try gone.run()
        gone.waitUntilExit()
        let stale = parent.appendingPathComponent(".out.partial-\(gone.processIdentifier)")
        try FileManager.default.createDirectory(at: stale, withIntermediateDirectories: true)
        try Data("half".utf8).write(to: stale.appendingPathComponent("events.sqlite"))
        XCTAssertEqual(try CLI.run(["backup", "--data", data.path, "--output", output.path]).status, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: stale.path), "a dead backup's temporary directory was left behind")
        let again = try CLI.run(["backup", "--data", data.path, "--output", output.path])
        XCTAssertEqual(again.status, 1, again.text)
        XCTAssertTrue(again.text.contains("not an empty directory"), again.text)
        // A directory with no Plexus data is not backed up.
        let empty = parent.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let nothing = try CLI.run(["backup", "--data", empty.path, "--output", parent.appendingPathComponent("out2").path])
        XCTAssertEqual(nothing.status, 1, nothing.text)
        XCTAssertTrue(nothing.text.contains("holds no Plexus databases"), nothing.text)
        // Restore: not from something that is not a backup; not over a non-empty directory without --force.
        let notBackup = try CLI.run(["restore", "--from", empty.path, "--data", parent.appendingPathComponent("new").path])
        XCTAssertEqual(notBackup.status, 1, notBackup.text)
        XCTAssertTrue(notBackup.text.contains("not a Plexus backup"), notBackup.text)
        let occupied = parent.appendingPathComponent("occupied")
        try FileManager.default.createDirectory(at: occupied, withIntermediateDirectories: true)
        try "old".write(to: occupied.appendingPathComponent("admin.key"), atomically: true, encoding: .utf8)
        let refused = try CLI.run(["restore", "--from", output.path, "--data", occupied.path])
        XCTAssertEqual(refused.status, 1, refused.text)
        XCTAssertTrue(refused.text.contains("--force"), refused.text)
        XCTAssertEqual(try String(contentsOf: occupied.appendingPathComponent("admin.key"), encoding: .utf8), "old")
        let forced = try CLI.run(["restore", "--from", output.path, "--data", occupied.path, "--force"])
        XCTAssertEqual(forced.status, 0, forced.text)
        XCTAssertEqual(try String(contentsOf: occupied.appendingPathComponent("admin.key"), encoding: .utf8), "plx-admin-test\n")
        XCTAssertEqual(partialLeftovers(in: parent), [])
        // A damaged backup is refused before the target is touched.
        try Data("changed".utf8).write(to: output.appendingPathComponent("admin.key"))
        let damaged = try CLI.run(["restore", "--from", output.path, "--data", parent.appendingPathComponent("fresh").path])
        XCTAssertEqual(damaged.status, 1, damaged.text)
        XCTAssertTrue(damaged.text.contains("damaged"), damaged.text)
        XCTAssertFalse(FileManager.default.fileExists(atPath: parent.appendingPathComponent("fresh").path))
    }
}
