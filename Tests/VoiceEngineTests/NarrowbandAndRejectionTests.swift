import XCTest
@testable import VoiceEngine

/// Telephone audio (real 8 kHz clips: espeak-ng speech downsampled with soxr), out-of-grammar speech that the
/// grammar would swallow as silence, and the pieces of the rejection measure.
final class NarrowbandAndRejectionTests: XCTestCase {
    override func setUpWithError() throws {
        try Clips.installStandard()
    }

    func testEightKilohertzClipsGiveIntentAndSlots() throws {
        let cases: [(text: String, voice: String, intent: String, slots: [String])] = [
            ("create a new ticket for globex", "en-us", "open_ticket", ["globex"]),
            ("compare the lease with the contract", "en-us+m3", "compare_documents", ["the lease", "the contract"]),
            ("open a ticket for initech", "en", "open_ticket", ["initech"]),
        ]
        var failures: [String] = []
        for c in cases {
            let wav = try Clips.wav(c.text, voice: c.voice, sampleRate: 8_000)
            let audio = try AudioReader.read(wav, contentType: "audio/wav", maxSeconds: 30)
            XCTAssertEqual(audio.sampleRate, 8_000)
            let result = try Clips.recognizer.recognize(AudioConverter.toRecognizerFormat(audio))
            if result.match?.intent != c.intent || result.match?.slots.map(\.value) != c.slots {
                failures.append("\(c.text) [\(c.voice) 8 kHz] heard '\(result.text)' → \(result.match?.intent ?? "nil") (gap \(result.gapPerFrame), absorbed \(result.absorbedSpeech))")
            }
        }
        XCTAssertEqual(failures, [])
    }

    func testNearMissSentencesAreRejected() throws {
        // Each starts like an intent; the grammar can only fit the rest as a wrong slot value or as silence.
        for (sentence, voice) in [("open a bank account", "en-us"), ("create a new playlist for the party", "en"),
                                  ("call me a taxi", "en-us+m3"), ("open a new account for my sister", "en-us+m3")] {
            let result = try Clips.recognize(try Clips.wav(sentence, voice: voice))
            XCTAssertNil(result.match, "'\(sentence)' [\(voice)] was taken for \(result.match?.intent ?? "") ('\(result.text)', gap \(result.gapPerFrame), absorbed \(result.absorbedSpeech))")
            XCTAssertLessThan(result.confidence, 0.5)
        }
    }

    func testAbsorbedSpeechCountsPhoneFramesInsideGrammarFillers() {
        typealias S = PocketSphinxDecoder.Segment
        let grammar = [S(word: "<sil>", firstFrame: 0, lastFrame: 9, acousticScore: 0), S(word: "call", firstFrame: 10, lastFrame: 29, acousticScore: 0),
                       S(word: "acme", firstFrame: 30, lastFrame: 49, acousticScore: 0), S(word: "<sil>", firstFrame: 50, lastFrame: 99, acousticScore: 0)]
        // Phones over frames 10...89: 40 frames inside the words, 40 inside the trailing silence.
        let phones = [S(word: "<sil>", firstFrame: 0, lastFrame: 9, acousticScore: 0), S(word: "phn_k", firstFrame: 10, lastFrame: 49, acousticScore: 0),
                      S(word: "phn_ay", firstFrame: 50, lastFrame: 89, acousticScore: 0), S(word: "<sil>", firstFrame: 90, lastFrame: 99, acousticScore: 0)]
        XCTAssertEqual(SpeechRecognizer.absorbedSpeech(grammar: grammar, phones: phones, frames: 100), 0.5, accuracy: 1e-9)
        XCTAssertEqual(SpeechRecognizer.absorbedSpeech(grammar: grammar, phones: Array(phones.prefix(2)), frames: 100), 0)
        XCTAssertEqual(SpeechRecognizer.absorbedSpeech(grammar: [], phones: phones, frames: 100), 1, "no grammar path: all absorbed")
        // Segments past the utterance's frames are clipped, not trapped on.
        XCTAssertEqual(SpeechRecognizer.absorbedSpeech(grammar: grammar, phones: [S(word: "phn_k", firstFrame: 120, lastFrame: 140, acousticScore: 0)], frames: 100), 0)
    }

    func testClipsPaddedWithDigitalSilenceAreRecognised() throws {
        // Half a second of exact zeros before and after, as synthesisers and gated recorders write them.
        try Clips.installStandard()
        let cases: [(text: String, voice: String, speed: Int, intent: String, slots: [String])] = [
            ("open a ticket for acme", "en-us", 140, "open_ticket", ["acme"]),
            ("create a new ticket for initech", "en", 140, "open_ticket", ["initech"]),
            ("what is the weather like today", "en-us+f3", 200, "weather", []),
            ("compare the contract and the lease", "en+m3", 170, "compare_documents", ["the contract", "the lease"]),
        ]
        var failures: [String] = []
        for c in cases {
            let silence = [Int16](repeating: 0, count: 11_025)
            let samples = silence + (try Clips.samples(c.text, voice: c.voice, speed: c.speed)) + silence
            let result = try Clips.recognize(WAVWriter.pcm16(samples, sampleRate: 22_050))
            if result.match?.intent != c.intent || result.match?.slots.map(\.value) != c.slots {
                failures.append("'\(c.text)' [\(c.voice) \(c.speed)]: \(result.match?.intent ?? "nil") ('\(result.text)', gap \(result.gapPerFrame), absorbed \(result.absorbedSpeech))")
            }
        }
        XCTAssertEqual(failures, [])
    }

    func testNoiseFloorIsDeterministicGaussianAndClamped() {
        let zeros = [Int16](repeating: 0, count: 40_000)
        let once = PocketSphinxDecoder.withNoiseFloor(zeros, level: 8), twice = PocketSphinxDecoder.withNoiseFloor(zeros, level: 8)
        XCTAssertEqual(once, twice, "the same audio always gets the same noise")
        let rms = (once.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(once.count)).squareRoot()
        XCTAssertEqual(rms, 8, accuracy: 0.4)
        XCTAssertEqual(Double(once.reduce(0) { $0 + Int($1) }) / Double(once.count), 0, accuracy: 0.3, "no DC offset")
        XCTAssertLessThan(once.filter { $0 == 0 }.count, once.count / 10, "digital silence is gone")
        XCTAssertLessThan(once.map { abs(Int($0)) }.max() ?? 0, 8 * 7, "no outliers beyond 7 standard deviations")
        XCTAssertEqual(PocketSphinxDecoder.withNoiseFloor(zeros, level: 0), zeros, "level 0 leaves the audio alone")
        let loud = [Int16](repeating: .max, count: 100) + [Int16](repeating: .min, count: 100)
        for (out, original) in zip(PocketSphinxDecoder.withNoiseFloor(loud, level: 8), loud) {
            XCTAssertLessThanOrEqual(abs(Int(out) - Int(original)), 8 * 7, "clamped, never wrapped")
            XCTAssertEqual(out.signum(), original.signum())
        }
    }

    func testMissingBandGetsNoiseOnlyAboveTheOldNyquistFrequency() throws {
        // 1 s of a 1 kHz tone at 16 kHz, as if it came from 8 kHz audio.
        var samples = (0..<16_000).map { Float(sin(2 * Double.pi * 1_000 * Double($0) / 16_000)) * 0.5 }
        let before = samples
        AudioConverter.fillMissingBand(&samples, above: 4_000, level: 0.1)
        let added = zip(samples, before).map { $0 - $1 }
        let rms = { (x: [Float]) in (x.reduce(0) { $0 + Double($1) * Double($1) } / Double(x.count)).squareRoot() }
        XCTAssertEqual(rms(added) / rms(before), 0.1, accuracy: 0.01)
        // Nothing of the added noise is left after a soxr low-pass at 3.6 kHz (down to 7.2 kHz and back).
        let low = AudioConverter.resample(AudioConverter.resample(added, from: 16_000, to: 7_200), from: 7_200, to: 16_000)
        XCTAssertLessThan(rms(Array(low.dropFirst(200).dropLast(200))), rms(added) * 0.05)
        var wideband = before
        AudioConverter.fillMissingBand(&wideband, above: 8_000, level: 0.1)
        XCTAssertEqual(wideband, before, "16 kHz and faster audio gets nothing")
    }

    func testStereoFloatWAVIsRecognised() throws {
        // 32-bit float, two channels (the right one at half level), 44.1 kHz: read, mixed to mono, resampled.
        let mono = try Clips.samples("open a new ticket for acme", sampleRate: 44_100)
        var out: [UInt8] = []
        func u32(_ v: Int) { out += [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24 & 0xFF)] }
        func u16(_ v: Int) { out += [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
        let dataBytes = mono.count * 8
        out += Array("RIFF".utf8); u32(36 + dataBytes); out += Array("WAVE".utf8)
        out += Array("fmt ".utf8); u32(16); u16(3); u16(2); u32(44_100); u32(44_100 * 8); u16(8); u16(32)
        out += Array("data".utf8); u32(dataBytes)
        for sample in mono {
            let left = Float(sample) / 32768
            u32(Int(left.bitPattern)); u32(Int((left / 2).bitPattern))
        }
        let audio = try AudioReader.read(out, contentType: "audio/wav", maxSeconds: 30)
        XCTAssertEqual(audio.channels, 2)
        XCTAssertEqual(audio.sampleRate, 44_100)
        let result = try Clips.recognizer.recognize(AudioConverter.toRecognizerFormat(audio))
        XCTAssertEqual(result.match?.intent, "open_ticket", "heard '\(result.text)'")
        XCTAssertEqual(result.match?.slots, [FilledSlot(name: "customer", value: "acme")])
    }
}
