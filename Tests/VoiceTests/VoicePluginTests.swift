import Foundation
import PlexusTesting
import XCTest

/// The voice plugin in the real binary: speech made by its own `/say` route is recognised back, bad audio
/// is refused with problem+json and the plugin keeps serving, and intents are replaced at run time.
final class VoicePluginTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let binDirectory = URL(fileURLWithPath: ProcessInfo.processInfo.environment["PLEXUS_BIN_DIR"]
        ?? root.appendingPathComponent(".build/debug").path)

    static let intents = #"""
    {"slots": {"customer": ["acme", "globex", "initech"]},
     "intents": [{"name": "open_ticket", "templates": ["(open|create) a [new] ticket for {customer}"],
                  "action": {"publish": "voice.action.ticket.requested", "payload": {"customer": "{customer}"}},
                  "answer": "Opening a ticket for {customer}."}]}
    """#

    func start() throws -> TestRuntime {
        let binary = Self.binDirectory.appendingPathComponent("plexus")
        let plugin = Self.binDirectory.appendingPathComponent("libPlexusVoice.so")
        for file in [binary, plugin] where !FileManager.default.fileExists(atPath: file.path) {
            throw TestFailure("no \(file.path): run `swift build` first (or set PLEXUS_BIN_DIR)")
        }
        let config = "intents = '''\n\(Self.intents)\n'''\nmax_audio_seconds = 10\n"
        return try TestRuntime(binary: binary, plugins: [plugin], pluginConfigs: ["voice": config])
    }

    func json(_ response: TestResponse) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
    }

    func testSpeechRoundTripBadInputAndIntentChange() throws {
        let plexus = try start()
        defer { _ = plexus.stop() }

        let said = try plexus.request("POST", "/api/v1/voice/say?voice=en-us&rate=170", headers: "Content-Type: text/plain\r\n",
                                      body: Array("create a new ticket for globex".utf8))
        XCTAssertEqual(said.status, 200, said.text)
        XCTAssertEqual(said.header("Content-Type"), "audio/wav")
        let recognized = try plexus.request("POST", "/api/v1/voice/recognize", headers: "Content-Type: audio/wav\r\n", body: said.body)
        XCTAssertEqual(recognized.status, 200, recognized.text)
        XCTAssertEqual(json(recognized)["intent"] as? String, "open_ticket")
        XCTAssertEqual((json(recognized)["slots"] as? [[String: String]])?.first?["value"], "globex")

        let command = try plexus.request("POST", "/api/v1/voice/command", headers: "Content-Type: audio/wav\r\n", body: said.body)
        XCTAssertEqual(json(command)["outcome"] as? String, "published", command.text)
        XCTAssertEqual(json(command)["answer"] as? String, "Opening a ticket for globex.")
        let spoken = try plexus.request("POST", "/api/v1/voice/command", headers: "Content-Type: audio/wav\r\nAccept: audio/wav\r\n", body: said.body)
        XCTAssertEqual(spoken.header("Content-Type"), "audio/wav")
        XCTAssertEqual(Array(spoken.body.prefix(4)), Array("RIFF".utf8))

        for (body, type, status) in [(Array("not audio".utf8), "audio/wav", 422), (Array(said.body.prefix(30)), "audio/wav", 422),
                                     (Array("{}".utf8), "application/json", 415), (Array(said.body.prefix(2000)), "audio/wav", 422)] {
            let refused = try plexus.request("POST", "/api/v1/voice/recognize", headers: "Content-Type: \(type)\r\n", body: body)
            XCTAssertEqual(refused.status, status, refused.text)
            XCTAssertEqual(refused.header("Content-Type"), "application/problem+json")
        }
        let long = try plexus.request("POST", "/api/v1/voice/say?rate=80", headers: "Content-Type: text/plain\r\n",
                                      body: Array(String(repeating: "open a new ticket for globex and ", count: 8).utf8))
        XCTAssertEqual(try plexus.request("POST", "/api/v1/voice/recognize", headers: "Content-Type: audio/wav\r\n", body: long.body).status, 413)

        let bad = try plexus.request("PUT", "/api/v1/voice/intents", headers: "Content-Type: application/json\r\n",
                                     body: Array(#"{"slots": {}, "intents": [{"name": "x", "templates": ["call {who}"]}]}"#.utf8))
        XCTAssertEqual(bad.status, 422, bad.text)
        XCTAssertTrue(bad.text.contains("position 5"), bad.text)
        let replaced = try plexus.request("PUT", "/api/v1/voice/intents", headers: "Content-Type: application/json\r\n",
                                          body: Array(#"{"slots": {}, "intents": [{"name": "lights", "templates": ["turn (on|off) the lights"]}]}"#.utf8))
        XCTAssertEqual(replaced.status, 200, replaced.text)
        let lights = try plexus.request("POST", "/api/v1/voice/say", headers: "Content-Type: text/plain\r\n", body: Array("turn off the lights".utf8))
        let heard = try plexus.request("POST", "/api/v1/voice/recognize", headers: "Content-Type: audio/wav\r\n", body: lights.body)
        XCTAssertEqual(json(heard)["intent"] as? String, "lights", heard.text)
        let selftest = try plexus.get("/api/v1/voice/selftest")
        XCTAssertEqual(json(selftest)["ratio"] as? Double, 1, selftest.text)
    }
}
