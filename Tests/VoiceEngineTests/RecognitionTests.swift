import XCTest
@testable import VoiceEngine

/// Real recognition of espeak-ng clips: several voices, speeds and sample rates, some with noise;
/// out-of-grammar speech, silence and noise rejected; an intents change taking effect at once.
final class RecognitionTests: XCTestCase {
    override func setUpWithError() throws {
        try Clips.installStandard()
    }

    func testInGrammarClipsGiveIntentAndSlots() throws {
        let cases: [(text: String, voice: String, speed: Int, rate: Int, noise: Float, intent: String, slots: [String])] = [
            ("compare the lease with the contract", "en-us", 160, 22_050, 0, "compare_documents", ["the lease", "the contract"]),
            ("show me the differences between the offer letter and the lease", "en", 175, 16_000, 0, "compare_documents", ["the offer letter", "the lease"]),
            ("open a new ticket for globex", "en-us+f3", 190, 44_100, 0, "open_ticket", ["globex"]),
            ("create a ticket for initech", "en-us+m3", 150, 11_025, 0, "open_ticket", ["initech"]),
            ("what is the weather like today", "en-us", 170, 48_000, 0.01, "weather", []),
            ("open a ticket for acme", "en-us", 200, 16_000, 0.02, "open_ticket", ["acme"]),
        ]
        var failures: [String] = []
        for c in cases {
            let result = try Clips.recognize(try Clips.wav(c.text, voice: c.voice, speed: c.speed, sampleRate: c.rate, noise: c.noise))
            if result.match?.intent != c.intent || result.match?.slots.map(\.value) != c.slots {
                failures.append("\(c.text) [\(c.voice) \(c.speed) wpm \(c.rate) Hz noise \(c.noise)] heard '\(result.text)' → \(result.match?.intent ?? "nil")")
            }
            XCTAssertGreaterThan(result.audioSeconds, 0.5)
        }
        XCTAssertEqual(failures, [])
    }

    func testOutOfGrammarSilenceAndNoiseAreRejected() throws {
        for sentence in ["please book a flight to paris tomorrow morning", "the quick brown fox jumps over the lazy dog",
                         "open the door for the cat"] {
            let result = try Clips.recognize(try Clips.wav(sentence))
            XCTAssertNil(result.match, "'\(sentence)' was taken for \(result.match?.intent ?? "") ('\(result.text)')")
            XCTAssertLessThan(result.confidence, 0.5)
        }
        let silence = try Clips.recognizer.recognize([Int16](repeating: 0, count: 32_000))
        XCTAssertNil(silence.match)
        var generator = SystemRandomNumberGenerator()
        let noise = (0..<32_000).map { _ in Int16.random(in: -3000...3000, using: &generator) }
        XCTAssertNil(try Clips.recognizer.recognize(noise).match)
    }

    func testL16BodyAt32kHzIsRecognised() throws {
        let mono = try Clips.samples("open a ticket for globex", sampleRate: 32_000)
        var l16: [UInt8] = []
        for s in mono { l16 += [UInt8(truncatingIfNeeded: UInt16(bitPattern: s) >> 8), UInt8(truncatingIfNeeded: UInt16(bitPattern: s))] }
        let result = try Clips.recognize(l16, contentType: "audio/L16;rate=32000")
        XCTAssertEqual(result.match?.slots, [FilledSlot(name: "customer", value: "globex")])
    }

    func testIntentChangeTakesEffectWithoutRestart() throws {
        defer { try? Clips.recognizer.install(Clips.intents) }
        let clip = try Clips.wav("turn on the zorblax lights")
        XCTAssertNil(try Clips.recognize(clip).match)
        var changed = Clips.intents
        changed.slots["device"] = ["zorblax lights", "kitchen fan"]
        changed.intents.append(IntentDefinition(name: "switch_on", templates: ["turn on the {device}"]))
        let compiled = try Clips.recognizer.install(changed)
        XCTAssertNotNil(compiled.addedPronunciations["zorblax"], "zorblax is not in cmudict; espeak-ng gives its phones")
        let result = try Clips.recognize(clip)
        XCTAssertEqual(result.match?.intent, "switch_on")
        XCTAssertEqual(result.match?.slots, [FilledSlot(name: "device", value: "zorblax lights")])
    }

    func testBadIntentsLeaveTheGrammarInPlace() throws {
        let before = Clips.recognizer.current?.generation
        XCTAssertThrowsError(try Clips.recognizer.install(IntentConfiguration(intents: [IntentDefinition(name: "x", templates: ["(open"])])))
        XCTAssertEqual(Clips.recognizer.current?.generation, before)
        XCTAssertEqual(try Clips.recognize(try Clips.wav("open a ticket for acme")).match?.intent, "open_ticket")
    }
}
