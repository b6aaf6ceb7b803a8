import XCTest
@testable import VoiceEngine

/// The order of a decoder's searches: the grammar with garbage loops first, the phone loop when that path takes no
/// loop, and the plain grammar only when the first path fails the score checks.
final class SearchOrderTests: XCTestCase {
    override func setUpWithError() throws {
        try Clips.installStandard()
    }

    func testAcceptedClipIsNotSearchedWithThePlainGrammar() throws {
        let result = try Clips.recognize(try Clips.wav("compare the lease with the contract", voice: "en-us"))
        XCTAssertEqual(result.match?.intent, "compare_documents", "heard '\(result.text)'")
        XCTAssertEqual(result.match?.slots.map(\.value), ["the lease", "the contract"])
        XCTAssertEqual(result.searches, ["checked", "phones"])
    }

    func testPathThroughAGarbageLoopRunsNoOtherSearch() throws {
        let result = try Clips.recognize(try Clips.wav("what is the weather like in london", voice: "en-us"))
        XCTAssertNil(result.match, "heard '\(result.text)'")
        XCTAssertEqual(result.searches, ["checked"])
        XCTAssertEqual(result.confidence, 0)
    }

    func testClipFailingTheScoreChecksIsJudgedOnThePlainGrammarToo() throws {
        // Forced onto "open a (new) ticket for ..." by the grammar (a slot is last: no garbage loop); the phone loop fits it better.
        let result = try Clips.recognize(try Clips.wav("open a bank account", voice: "en-us"))
        XCTAssertNil(result.match, "heard '\(result.text)'")
        XCTAssertEqual(result.searches, ["checked", "phones", "intents"], "heard '\(result.text)', gap \(result.gapPerFrame)")
        XCTAssertGreaterThan(result.gapPerFrame, Clips.recognizer.rejectionGap)
    }

    /// The new order and the old one (plain grammar always searched and judged) agree on intents and slots.
    func testCheckedFirstOrderAgreesWithThePlainFirstOrder() throws {
        var model = RecognizerModel.debianEnglish
        model.alwaysSearchPlainGrammar = true
        let plainFirst = try SpeechRecognizer(model: model, synthesizer: Clips.synthesizer, maxDecoders: 1)
        try plainFirst.install(Clips.intents)
        let clips: [(String, String)] = [
            ("open a new ticket for globex", "en-us+m3"), ("what is the weather today", "en"),
            ("show me the differences between the offer letter and the lease", "en-us+f3"),
            ("the quick brown fox jumps over the lazy dog", "en-us"), ("open a bank account", "en-us"),
            ("what is the weather like in london", "en-us+m3"),
        ]
        for (sentence, voice) in clips {
            let audio = try AudioReader.read(try Clips.wav(sentence, voice: voice), contentType: "audio/wav", maxSeconds: 30)
            let samples = AudioConverter.toRecognizerFormat(audio)
            let new = try Clips.recognizer.recognize(samples), old = try plainFirst.recognize(samples)
            XCTAssertEqual(new.match?.intent, old.match?.intent, "'\(sentence)' [\(voice)]: '\(new.text)' against '\(old.text)'")
            XCTAssertEqual(new.match?.slots.map(\.value), old.match?.slots.map(\.value), "'\(sentence)' [\(voice)]")
            XCTAssertEqual(old.searches.first, "intents")
        }
    }
}

/// A clip decodes the same whatever the decoder heard before (``RecognizerModel/freshFrontEnd``).
final class FrontEndStateTests: XCTestCase {
    func testAClipDecodesTheSameAfterOtherClipsAndItself() throws {
        let recognizer = try SpeechRecognizer(synthesizer: Clips.synthesizer, maxDecoders: 1)
        try recognizer.install(Clips.intents)
        func decode(_ sentence: String, _ voice: String, noise: Float = 0) throws -> Recognition {
            let audio = try AudioReader.read(try Clips.wav(sentence, voice: voice, noise: noise), contentType: "audio/wav", maxSeconds: 30)
            return try recognizer.recognize(AudioConverter.toRecognizerFormat(audio))
        }
        let clip = try Clips.wav("what is the weather like in spain", voice: "en-us")
        let samples = AudioConverter.toRecognizerFormat(try AudioReader.read(clip, contentType: "audio/wav", maxSeconds: 30))
        let first = try recognizer.recognize(samples)
        let again = try recognizer.recognize(samples)
        _ = try decode("open a new ticket for initech", "en-us", noise: 0.05)
        _ = try decode("the quick brown fox jumps over the lazy dog", "en-us", noise: 0.1)
        let after = try recognizer.recognize(samples)
        for other in [again, after] {
            XCTAssertEqual(other.text, first.text)
            XCTAssertEqual(other.match?.intent, first.match?.intent)
            XCTAssertEqual(other.gapPerFrame, first.gapPerFrame)
            XCTAssertEqual(other.absorbedSpeech, first.absorbedSpeech)
            XCTAssertEqual(other.confidence, first.confidence)
            XCTAssertEqual(other.searches, first.searches)
        }
    }
}
