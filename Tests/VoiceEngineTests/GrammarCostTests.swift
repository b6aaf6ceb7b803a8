import XCTest
@testable import VoiceEngine

/// What a grammar costs PocketSphinx to build is counted and bounded before it is built: slot values are a word
/// trie (no word leaves one state twice for the same slot use), templates that start alike are refused before
/// their repeats make the build quadratic, and a grammar of too many phones is refused naming its template.
final class GrammarCostTests: XCTestCase {
    /// (state, word) pairs of the FSG's word transitions, with how often each occurs.
    static func wordsLeaving(_ fsg: String) -> [String: Int] {
        var counts: [String: Int] = [:]
        for line in fsg.split(separator: "\n") where line.hasPrefix("TRANSITION") {
            let fields = line.split(separator: " ")
            if fields.count > 4 { counts["\(fields[1]) \(fields[4])", default: 0] += 1 }
        }
        return counts
    }

    func testValuesSharingFirstWordsShareTransitions() throws {
        // One template with 51 uses of a 5,000-value slot whose values all start with "name": before the trie each
        // use had "name" leave one state 5,000 times (12.5 million counted units per use). Now each use spells
        // "name" once, then the 5,000 numbers.
        let values = (0..<5_000).map { "name number\($0)" }
        let template = Array(repeating: "{who}", count: 51).joined(separator: " ")
        let grammar = try IntentGrammar(IntentConfiguration(slots: ["who": values], intents: [IntentDefinition(name: "a", templates: [template])]))
        XCTAssertEqual(grammar.slotTries["who"]?.transitionCount, 5_001)
        let leaving = Self.wordsLeaving(grammar.fsg(garbage: nil))
        XCTAssertEqual(leaving.values.reduce(0, +), 51 * 5_001)
        XCTAssertEqual(leaving.values.max(), 1)
        // The counted work is one unit per transition: nothing repeats.
        var cost = FSGBuilder(garbage: nil, slotTries: grammar.slotTries, recording: false)
        let start = cost.newState(), end = cost.newState()
        cost.sequence(grammar.templates[0][0], from: start, to: end, final: true)
        XCTAssertEqual(cost.repeatedWordWork, 51 * 5_001)
    }

    func testTrieKeepsEveryValueIncludingPrefixesOfOthers() throws {
        let grammar = try IntentGrammar(IntentConfiguration(
            slots: ["customer": ["big", "big bank", "big bank corp", "acme", "big bank"]],
            intents: [IntentDefinition(name: "call", templates: ["call {customer} [now]"])]))
        XCTAssertEqual(WordCheckTests.sentences(ofFSG: grammar.fsg(garbage: nil)), [
            "call big", "call big now", "call big bank", "call big bank now", "call big bank corp", "call big bank corp now",
            "call acme", "call acme now"])
        // "big" ends a value and goes on: two transitions; "bank" likewise; "corp" and "acme" one each.
        XCTAssertEqual(grammar.slotTries["customer"]?.transitionCount, 6)
        XCTAssertEqual(grammar.match("call big bank corp now")?.slots, [FilledSlot(name: "customer", value: "big bank corp")])
    }

    func testTemplatesThatStartAlikeWithALargeSlotAreRefused() {
        // Each template starting with the slot repeats its 5,000 first words at the grammar's start: after k such
        // templates the work is 5,000 · k(k+1)/2 units, past 1,000,000 at the 20th.
        let values = (0..<5_000).map { "customer\($0)" }
        let templates = (0..<40).map { "{who} word\($0)" }
        XCTAssertThrowsError(try IntentGrammar(IntentConfiguration(slots: ["who": values], intents: [IntentDefinition(name: "call", templates: templates)]))) {
            let text = "\($0)"
            XCTAssertTrue(text.contains("intent 'call': the template \"{who} word19\" makes the grammar too costly"), text)
            XCTAssertTrue(text.contains("leaves one point of the grammar 20 times"), text)
        }
        // Merged into one template, the same sentences are fine.
        let merged = "{who} (" + (0..<40).map { "word\($0)" }.joined(separator: "|") + ")"
        XCTAssertNoThrow(try IntentGrammar(IntentConfiguration(slots: ["who": values], intents: [IntentDefinition(name: "call", templates: [merged])])))
    }

    func testTheSameTemplateInManyIntentsIsRefused() {
        // 50 intents of 200 "{who} now" each: every template adds the 4 values at the grammar's start again, so
        // after k templates the work is 4 · k(k+1)/2 units, past 1,000,000 at the 707th (intent 'i3'). Installing
        // the whole of it took over two minutes of CPU before this bound (Plugins/Voice/README.md).
        let intents = (0..<50).map { IntentDefinition(name: "i\($0)", templates: Array(repeating: "{who} now", count: 200)) }
        XCTAssertThrowsError(try IntentGrammar(IntentConfiguration(slots: ["who": ["acme", "globex", "initech", "umbrella"]], intents: intents))) {
            let text = "\($0)"
            XCTAssertTrue(text.contains("intent 'i3': the template \"{who} now\" makes the grammar too costly"), text)
            XCTAssertTrue(text.contains("leaves one point of the grammar 707 times"), text)
        }
        // Three intents of 200 (600 repeats, 721,200 units) are still taken.
        XCTAssertNoThrow(try IntentGrammar(IntentConfiguration(slots: ["who": ["acme", "globex", "initech", "umbrella"]], intents: Array(intents.prefix(3)))))
    }

    func testAGrammarOfTooManyPhonesIsRefusedNamingTheTemplate() throws {
        let values = (0..<5_000).map { "customer\($0)" }
        let templates = (0..<30).map { "call\($0) {who}" }
        let grammar = try IntentGrammar(IntentConfiguration(slots: ["who": values], intents: [IntentDefinition(name: "call", templates: templates)]))
        // Ten phones a word: 50,010 per template, past 1,000,000 at the 20th.
        XCTAssertThrowsError(try grammar.checkPhones { _ in 10 }) {
            XCTAssertTrue("\($0)".contains("intent 'call': the grammar grows past 1000000 phones at the template \"call19 {who}\""), "\($0)")
        }
        XCTAssertNoThrow(try grammar.checkPhones { _ in 5 })
    }

    func testDictionaryGivesPhoneCounts() throws {
        let dictionary = try PronunciationDictionary(path: RecognizerModel.debianEnglish.dictionaryPath)
        XCTAssertEqual(dictionary.phoneCounts["call"], 3)
        XCTAssertTrue(dictionary.contains("weather"))
        XCTAssertFalse(dictionary.contains("initech"))
    }
}
