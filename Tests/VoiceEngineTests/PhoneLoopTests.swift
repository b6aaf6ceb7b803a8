import Foundation
import XCTest
@testable import VoiceEngine

/// The phone loop as a one-state finite-state grammar (``RecognizerModel/singleStatePhoneLoop``) finds the JSGF
/// loop's paths and scores (with one lexicon tree instead of two; the CPU saved is measured in Plugins/Voice/README.md).
final class PhoneLoopTests: XCTestCase {
    private static let sentences: [(String, String)] = [
        ("compare the lease with the contract", "en-us"), ("open a new ticket for globex", "en-us+m3"),
        ("what is the weather like in london", "en"), ("the quick brown fox jumps over the lazy dog", "en-us+f3"),
        ("open a bank account", "en-us"),
    ]

    private func recognizer(singleState: Bool) throws -> SpeechRecognizer {
        var model = RecognizerModel.debianEnglish
        model.singleStatePhoneLoop = singleState
        let recognizer = try SpeechRecognizer(model: model, synthesizer: Clips.synthesizer, maxDecoders: 1)
        try recognizer.install(Clips.intents)
        return recognizer
    }

    func testTheOneStateLoopScoresAsTheJSGFLoop() throws {
        let fsg = try recognizer(singleState: true), jsgf = try recognizer(singleState: false)
        for (sentence, voice) in Self.sentences {
            let audio = try AudioReader.read(try Clips.wav(sentence, voice: voice), contentType: "audio/wav", maxSeconds: 30)
            let samples = AudioConverter.toRecognizerFormat(audio)
            let new = try fsg.recognize(samples), old = try jsgf.recognize(samples)
            let label = "'\(sentence)' [\(voice)]"
            XCTAssertEqual(new.text, old.text, label)
            XCTAssertEqual(new.match?.intent, old.match?.intent, label)
            XCTAssertEqual(new.spokenPhones, old.spokenPhones, label)
            XCTAssertEqual(new.gapPerFrame, old.gapPerFrame, label)
            XCTAssertEqual(new.absorbedSpeech, old.absorbedSpeech, label)
            XCTAssertEqual(new.searches, old.searches, label)
        }
    }
}
