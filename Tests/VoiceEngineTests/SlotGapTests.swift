import XCTest
@testable import VoiceEngine

/// The per-word comparison with the phone loop (``Recognition/wordGaps``, ``Recognition/slotGap``), the optional
/// rejection on the slot gap (``RecognizerModel/maxSlotGap``) and AA variants on template words only.
final class SlotGapTests: XCTestCase {
    typealias Segment = PocketSphinxDecoder.Segment

    func testWordGapsCountLoopSegmentsByTheirOverlapWithTheWord() {
        let grammar = [Segment(word: "<sil>", firstFrame: 0, lastFrame: 9, acousticScore: -50),
                       Segment(word: "call(2)", firstFrame: 10, lastFrame: 29, acousticScore: -1_000),
                       Segment(word: "acme", firstFrame: 30, lastFrame: 49, acousticScore: -2_000)]
        let loop = [Segment(word: "phn_k", firstFrame: 0, lastFrame: 19, acousticScore: -400),
                    Segment(word: "phn_aa", firstFrame: 20, lastFrame: 39, acousticScore: -600),
                    Segment(word: "phn_m", firstFrame: 40, lastFrame: 49, acousticScore: -100)]
        let gaps = SpeechRecognizer.wordGaps(grammar, phones: loop)
        // call: half of the first loop segment and half of the second, -500 against -1,000 over 20 frames.
        XCTAssertEqual(gaps, [WordGap(word: "call", firstFrame: 10, frames: 20, gapPerFrame: 25),
                              WordGap(word: "acme", firstFrame: 30, frames: 20, gapPerFrame: 80)])
    }

    func testSlotGapIsTheWorstSlotValueOverItsOwnFrames() {
        let words: [(String, Int, Double)] = [("compare", 10, 50), ("the", 5, 20), ("offer", 10, 2), ("letter", 10, 4),
                                              ("with", 5, 30), ("the", 5, -10), ("lease", 15, 1)]
        var frame = 0
        let gaps = words.map { word, frames, gap in
            defer { frame += frames }
            return WordGap(word: word, firstFrame: frame, frames: frames, gapPerFrame: gap)
        }
        let match = IntentMatch(intentIndex: 0, intent: "compare_documents",
                                slots: [FilledSlot(name: "document", value: "the offer letter"), FilledSlot(name: "document", value: "the lease")])
        // (5·20 + 10·2 + 10·4) / 25 = 6.4 for the first value, (5·-10 + 15·1) / 20 = -1.75 for the second; the template
        // words ("compare", "with") do not count.
        XCTAssertEqual(SpeechRecognizer.slotGap(match, wordGaps: gaps), 6.4, accuracy: 1e-9)
        XCTAssertEqual(SpeechRecognizer.slotGap(IntentMatch(intentIndex: 0, intent: "weather", slots: []), wordGaps: gaps), -.infinity)
    }

    func testMaxSlotGapRejectsAMatchTheDefaultAccepts() throws {
        try Clips.installStandard()
        let wav = try Clips.wav("open a ticket for acme", voice: "en-us")
        let accepted = try Clips.recognize(wav)
        XCTAssertEqual(accepted.match?.slots, [FilledSlot(name: "customer", value: "acme")])
        XCTAssertTrue(accepted.slotGap.isFinite, "the slot was measured: \(accepted.slotGap)")
        XCTAssertEqual(accepted.wordGaps.map(\.word), ["open", "a", "ticket", "for", "acme"])

        var model = RecognizerModel.debianEnglish
        model.maxSlotGap = accepted.slotGap - 0.5
        let strict = try SpeechRecognizer(model: model, synthesizer: Clips.synthesizer, maxDecoders: 1)
        try strict.install(Clips.intents)
        let rejected = try strict.recognize(AudioConverter.toRecognizerFormat(AudioReader.read(wav, contentType: "audio/wav", maxSeconds: 30)))
        XCTAssertNil(rejected.match)
        XCTAssertEqual(rejected.slotGap, accepted.slotGap, accuracy: 1e-9, "the same clip decodes the same")
        XCTAssertLessThan(rejected.confidence, 0.5)
    }

    func testAAVariantsOnTemplateWordsOnlyLeaveSlotValuesAlone() throws {
        let grammar = try IntentGrammar(IntentConfiguration(
            slots: ["document": ["the offer letter"]],
            intents: [IntentDefinition(name: "call", templates: ["call about {document}"])]))
        for (templatesOnly, offerVariants) in [(false, 2), (true, 1)] {
            var model = RecognizerModel.debianEnglish
            model.cotCaughtVariants = true
            model.cotCaughtTemplateWordsOnly = templatesOnly
            let decoder = try PocketSphinxDecoder(model: model)
            try decoder.load(CompiledGrammar(intents: grammar, addedPronunciations: [:], generation: 1))
            XCTAssertEqual(decoder.pronunciations(of: "call"), ["K AO L", "K AA L"], "template word, templatesOnly \(templatesOnly)")
            XCTAssertEqual(decoder.pronunciations(of: "offer").count, offerVariants, "slot word, templatesOnly \(templatesOnly)")
        }
    }

    func testAAVariantsAsWordsOfTheirOwnAreReportedAsTheWord() throws {
        var model = RecognizerModel.debianEnglish
        model.cotCaughtVariants = true
        model.cotCaughtTemplateWordsOnly = true
        model.cotCaughtProbability = 0.5
        let configuration = IntentConfiguration(slots: ["customer": ["acme", "globex"]],
                                                intents: [IntentDefinition(name: "call_customer", templates: ["call {customer} [now]"])])
        let decoder = try PocketSphinxDecoder(model: model)
        try decoder.load(CompiledGrammar(intents: try IntentGrammar(configuration), addedPronunciations: [:], generation: 1))
        XCTAssertEqual(decoder.pronunciations(of: "call"), ["K AO L"], "no alternative pronunciation of the word itself")
        XCTAssertEqual(decoder.pronunciations(of: "call" + PocketSphinxDecoder.variantSuffix), ["K AA L"])

        let recognizer = try SpeechRecognizer(model: model, synthesizer: Clips.synthesizer, maxDecoders: 1)
        try recognizer.install(configuration)
        let wav = try Clips.wav("call acme now", voice: "en-us", speed: 150)
        let result = try recognizer.recognize(AudioConverter.toRecognizerFormat(AudioReader.read(wav, contentType: "audio/wav", maxSeconds: 30)))
        XCTAssertEqual(result.text, "call acme now", "the variant word is reported as the word")
        XCTAssertEqual(result.wordGaps.map(\.word), ["call", "acme", "now"])
    }
}
