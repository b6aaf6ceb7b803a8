import XCTest
@testable import VoiceEngine

/// Template syntax, its errors with positions, and the one-source grammar and parser.
final class TemplateTests: XCTestCase {
    func testParsesAlternativesOptionalsAndSlots() throws {
        let parts = try TemplateParser.parse("(open|create) a [new] ticket for {customer}", intent: "t", knownSlots: ["customer"])
        XCTAssertEqual(parts, [.choice([[.word("open")], [.word("create")]], optional: false), .word("a"),
                               .choice([[.word("new")]], optional: true), .word("ticket"), .word("for"), .slot("customer")])
    }

    func testErrorsNameTemplateAndPosition() {
        func failure(_ text: String) -> TemplateError? {
            do { _ = try TemplateParser.parse(text, intent: "x", knownSlots: ["a"]); return nil } catch { return error }
        }
        XCTAssertEqual(failure("open (a|b ticket")?.position, 5)
        XCTAssertEqual(failure("open {nope} now")?.reason, "unknown slot 'nope'")
        XCTAssertEqual(failure("open {nope} now")?.position, 5)
        XCTAssertEqual(failure("open a) b")?.position, 6)
        XCTAssertEqual(failure("go {a")?.position, 3)
        XCTAssertEqual(failure("say (|b)")?.reason, "empty alternative in '('")
        XCTAssertEqual(failure("[maybe]")?.reason, nil)
        XCTAssertEqual(failure("  ")?.reason, "the template has no words to say")
        XCTAssertTrue(failure("go {a")!.description.contains("template \"go {a\", position 3"))
    }

    func testGrammarRefusesEmptyAndUnknownThings() {
        XCTAssertThrowsError(try IntentGrammar(IntentConfiguration(intents: []))) { XCTAssertEqual($0 as? IntentError, .invalid("no intents: the grammar would be empty")) }
        XCTAssertThrowsError(try IntentGrammar(IntentConfiguration(intents: [IntentDefinition(name: "a", templates: ["call {who}"])]))) {
            guard case .template(let e)? = $0 as? IntentError else { return XCTFail("\($0)") }
            XCTAssertEqual(e.intent, "a"); XCTAssertEqual(e.position, 5)
        }
        XCTAssertThrowsError(try IntentGrammar(IntentConfiguration(slots: ["who": []], intents: [IntentDefinition(name: "a", templates: ["call {who}"])])))
        let badAction = IntentDefinition(name: "a", templates: ["hello"], action: IntentAction(service: "s", publish: "t"))
        XCTAssertThrowsError(try IntentGrammar(IntentConfiguration(intents: [badAction])))
    }

    func testAGrammarThatWouldSpellOutTooManySlotValuesIsRefused() throws {
        let values = (0..<5_000).map { "number\($0) name" }
        // 10,002 transitions per template (no two values share a first word): the 50th passes the budget.
        let many = (0..<60).map { "call\($0) {who}" }
        XCTAssertThrowsError(try IntentGrammar(IntentConfiguration(slots: ["who": values], intents: [IntentDefinition(name: "a", templates: many)]))) {
            XCTAssertTrue("\($0)".contains("grows past 500000 word transitions at the template \"call49 {who}\""), "\($0)")
        }
        XCTAssertNoThrow(try IntentGrammar(IntentConfiguration(slots: ["who": values], intents: [IntentDefinition(name: "a", templates: Array(many.prefix(3)))])))
    }

    func testParserReadsRepeatedSlotsInSpokenOrder() throws {
        let grammar = try IntentGrammar(Clips.intents)
        let match = grammar.match("show me the changes between the contract and the offer letter")
        XCTAssertEqual(match?.intent, "compare_documents")
        XCTAssertEqual(match?.slots, [FilledSlot(name: "document", value: "the contract"), FilledSlot(name: "document", value: "the offer letter")])
        XCTAssertEqual(grammar.match("open a ticket for acme")?.slots, [FilledSlot(name: "customer", value: "acme")])
        XCTAssertEqual(grammar.match("create a new ticket for globex")?.intent, "open_ticket")
        XCTAssertNil(grammar.match("open a new new ticket for globex"))
        XCTAssertNil(grammar.match("compare the lease"))
    }

    func testJSGFHasOneRulePerIntentAndSlot() throws {
        let jsgf = try IntentGrammar(Clips.intents).jsgf
        XCTAssertTrue(jsgf.contains("public <utterance> = <intent0> | <intent1> | <intent2>;"))
        XCTAssertTrue(jsgf.contains("<intent1> = ( ( open | create ) a [ new ] ticket for <slot_customer> );"))
        XCTAssertTrue(jsgf.contains("<slot_document> = ( the lease ) | ( the offer letter ) | ( the contract );"))
    }

    func testAnswersAndRequestsAreFilledFromSlotsAndReply() {
        let filler = SlotFiller(slots: [FilledSlot(name: "document", value: "the lease"), FilledSlot(name: "document", value: "the contract")],
                                reply: ["changes": .number(3)])
        XCTAssertEqual(filler.fill("Comparing {document.0} with {document.1}: {reply.changes} changes."), "Comparing the lease with the contract: 3 changes.")
        XCTAssertEqual(filler.fill("{document}|{missing}|{document.7}"), "the lease||")
    }

    func testEspeakPhonemesMapToCMUPhones() throws {
        let phones = PhoneMapper.cmuPhones(try Clips.synthesizer.phonemes("globex").flatMap { $0 })
        XCTAssertEqual(phones, ["G", "L", "OW", "B", "EH", "K", "S"])
    }
}
