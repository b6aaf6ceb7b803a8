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

    func start(extraConfig: String = "", runtimeConfig: String = "") throws -> TestRuntime {
        let binary = Self.binDirectory.appendingPathComponent("plexus")
        let plugin = Self.binDirectory.appendingPathComponent("libPlexusVoice.so")
        for file in [binary, plugin] where !FileManager.default.fileExists(atPath: file.path) {
            throw TestFailure("no \(file.path): run `swift build` first (or set PLEXUS_BIN_DIR)")
        }
        let config = "intents = '''\n\(Self.intents)\n'''\nmax_audio_seconds = 10\n" + extraConfig
        return try TestRuntime(binary: binary, plugins: [plugin], pluginConfigs: ["voice": config], extra: runtimeConfig)
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
        // The same request gives the same audio after other voices spoke (espeak-ng's state does not leak between calls).
        for variant in ["en-us%2Bm3", "en-us%2Bf3"] { // en-us+m3, en-us+f3
            let other = try plexus.request("POST", "/api/v1/voice/say?voice=\(variant)&rate=200&pitch=70", headers: "Content-Type: text/plain\r\n",
                                           body: Array("call acme now".utf8))
            XCTAssertEqual(other.status, 200, other.text)
        }
        let again = try plexus.request("POST", "/api/v1/voice/say?voice=en-us&rate=170", headers: "Content-Type: text/plain\r\n",
                                       body: Array("create a new ticket for globex".utf8))
        XCTAssertTrue(again.body == said.body, "/say repeated: \(again.body.count) bytes against \(said.body.count), not the same audio")

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

    func testCommandEventsCarryIntentSlotsOutcomeAndTimings() throws {
        // The voice topics kept in the durable log, so the test can read them back.
        let plexus = try start(runtimeConfig: "[bus]\ndurable_topics = \"voice.#\"\n")
        defer { _ = plexus.stop() }
        let said = try plexus.request("POST", "/api/v1/voice/say", headers: "Content-Type: text/plain\r\n", body: Array("open a ticket for initech".utf8))
        let command = try plexus.request("POST", "/api/v1/voice/command", headers: "Content-Type: audio/wav\r\n", body: said.body)
        XCTAssertEqual(json(command)["outcome"] as? String, "published", command.text)
        var events: [[String: Any]] = []
        for _ in 0..<50 {
            let listed = try plexus.get("/api/v1/events?topic=voice.%23&limit=50")
            XCTAssertEqual(listed.status, 200, listed.text)
            events = (try? JSONSerialization.jsonObject(with: Data(listed.body))) as? [[String: Any]] ?? []
            if events.count >= 3 { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        func payload(_ topic: String) -> [String: Any]? { events.first { $0["topic"] as? String == topic }?["payload"] as? [String: Any] }
        let received = payload("voice.command.received")?["recognition"] as? [String: Any]
        XCTAssertEqual(received?["intent"] as? String, "open_ticket", "\(events)")
        XCTAssertEqual((received?["slots"] as? [[String: String]])?.first?["value"], "initech")
        XCTAssertNotNil(received?["decode_ms"] as? Double)
        let completed = payload("voice.command.completed")
        XCTAssertEqual(completed?["intent"] as? String, "open_ticket", "\(events)")
        XCTAssertEqual(completed?["outcome"] as? String, "published")
        XCTAssertEqual((completed?["slots"] as? [[String: String]])?.first?["value"], "initech")
        XCTAssertNotNil(completed?["action_ms"] as? Double)
        XCTAssertEqual(payload("voice.action.ticket.requested")?["customer"] as? String, "initech", "the action's payload, slot filled in")
    }

    func testDecodesBeyondTheQueueGet503WithRetryAfter() throws {
        let plexus = try start(extraConfig: "max_concurrent_decodes = 1\nmax_queued_decodes = 0\n")
        defer { _ = plexus.stop() }
        // About 8 s of speech, so a decode takes long enough for the requests to overlap.
        let text = String(repeating: "open a new ticket for globex and ", count: 4)
        let said = try plexus.request("POST", "/api/v1/voice/say", headers: "Content-Type: text/plain\r\n", body: Array(text.utf8))
        XCTAssertEqual(said.status, 200, said.text)
        let lock = NSLock()
        var statuses: [Int] = [], retryAfter: [String?] = []
        DispatchQueue.concurrentPerform(iterations: 6) { _ in
            let response = try? plexus.request("POST", "/api/v1/voice/recognize", headers: "Content-Type: audio/wav\r\n", body: said.body)
            lock.lock(); statuses.append(response?.status ?? 0)
            if response?.status == 503 { retryAfter.append(response?.header("Retry-After")) }
            lock.unlock()
        }
        XCTAssertTrue(statuses.contains(200), "\(statuses)")
        XCTAssertTrue(statuses.contains(503), "one decoder, no queue, six at once: \(statuses)")
        XCTAssertTrue(statuses.allSatisfy { $0 == 200 || $0 == 503 }, "\(statuses)")
        XCTAssertTrue(retryAfter.allSatisfy { $0 == "1" }, "\(retryAfter)")
        // And it keeps serving afterwards.
        XCTAssertEqual(try plexus.request("POST", "/api/v1/voice/recognize", headers: "Content-Type: audio/wav\r\n", body: said.body).status, 200)
    }
}
