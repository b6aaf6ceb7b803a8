import Foundation
import PlexusTesting
import XCTest

/// A service-call action over the real binary: the voice plugin beside the real compliance plugin, whose bus
/// service `compliance.check` the recognised intent calls with its slot filled into the request.
final class VoiceServiceActionTests: XCTestCase {
    static let intents = #"""
    {"slots": {"customer": ["acme", "globex", "initech"]},
     "intents": [{"name": "check_notes", "templates": ["check the notes (on|for) {customer}"],
                  "action": {"service": "compliance.check",
                             "request": {"tenant": "acme", "text": "Notes on {customer}: write to anna@example.com."}},
                  "answer": "Checked the notes on {customer}."},
                 {"name": "broken", "templates": ["check the notes about {customer}"],
                  "action": {"service": "compliance.check", "request": {"tenant": "acme"}},
                  "answer": "Never said."}]}
    """#

    func start() throws -> TestRuntime {
        let bin = VoicePluginTests.binDirectory
        let plugins = ["libPlexusVoice.so", "libPlexusCompliance.so"].map { bin.appendingPathComponent($0) }
        for file in plugins + [bin.appendingPathComponent("plexus")] where !FileManager.default.fileExists(atPath: file.path) {
            throw TestFailure("no \(file.path): run `swift build` first (or set PLEXUS_BIN_DIR)")
        }
        let packs = VoicePluginTests.root.appendingPathComponent("plugins.d/compliance").path
        return try TestRuntime(binary: bin.appendingPathComponent("plexus"), plugins: plugins,
                               pluginConfigs: ["voice": "intents = '''\n\(Self.intents)\n'''\n",
                                               "compliance": "packs_dir = \"\(packs)\"\n"],
                               extra: "[bus]\ndurable_topics = \"voice.#\"\n")
    }

    func json(_ response: TestResponse) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
    }

    func testSpokenCommandCallsAnotherPluginsServiceWithTheSlotFilledIn() throws {
        let plexus = try start()
        defer { _ = plexus.stop() }
        let said = try plexus.request("POST", "/api/v1/voice/say?voice=en-us&rate=160", headers: "Content-Type: text/plain\r\n",
                                      body: Array("check the notes on globex".utf8))
        XCTAssertEqual(said.status, 200, said.text)
        let command = try plexus.request("POST", "/api/v1/voice/command", headers: "Content-Type: audio/wav\r\n", body: said.body)
        XCTAssertEqual(command.status, 200, command.text)
        let result = json(command)
        XCTAssertEqual((result["recognition"] as? [String: Any])?["intent"] as? String, "check_notes", command.text)
        XCTAssertEqual(result["outcome"] as? String, "service", command.text)
        XCTAssertEqual(result["answer"] as? String, "Checked the notes on globex.")
        // The compliance plugin's own reply: it found the e-mail address in the request the voice plugin filled in.
        let reply = result["reply"] as? [String: Any]
        let entities = reply?["entities"] as? [[String: Any]] ?? []
        XCTAssertTrue(entities.contains { $0["type"] as? String == "EMAIL" }, "reply: \(String(describing: reply))")
        XCTAssertNotNil(reply?["packs"] as? [String], command.text)

        // The same command, answered in speech.
        let spoken = try plexus.request("POST", "/api/v1/voice/command", headers: "Content-Type: audio/wav\r\nAccept: audio/wav\r\n", body: said.body)
        XCTAssertEqual(spoken.status, 200)
        XCTAssertEqual(spoken.header("Content-Type"), "audio/wav")

        // A request the service refuses (no "text"): the command reports the failure, and the plugin keeps serving.
        let broken = try plexus.request("POST", "/api/v1/voice/say?voice=en-us&rate=160", headers: "Content-Type: text/plain\r\n",
                                        body: Array("check the notes about acme".utf8))
        let failed = try plexus.request("POST", "/api/v1/voice/command", headers: "Content-Type: audio/wav\r\n", body: broken.body)
        XCTAssertEqual(failed.status, 200, failed.text)
        XCTAssertEqual((json(failed)["recognition"] as? [String: Any])?["intent"] as? String, "broken", failed.text)
        XCTAssertEqual(json(failed)["outcome"] as? String, "failed", failed.text)
        XCTAssertTrue((json(failed)["error"] as? String ?? "").contains("text"), failed.text)
        XCTAssertNil(json(failed)["answer"] as? String, failed.text)

        // voice.command.completed carries the service outcome.
        var completed: [[String: Any]] = []
        for _ in 0..<50 {
            let listed = try plexus.get("/api/v1/events?topic=voice.command.completed&limit=50")
            let events = (try? JSONSerialization.jsonObject(with: Data(listed.body))) as? [[String: Any]] ?? []
            completed = events.compactMap { $0["payload"] as? [String: Any] }
            if completed.count >= 3 { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        XCTAssertEqual(completed.compactMap { $0["outcome"] as? String }.sorted(), ["failed", "service", "service"], "\(completed)")
    }
}
