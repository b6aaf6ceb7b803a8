import ComplianceEngine
import Foundation
import XCTest

/// Rule packs: the shipped ones load (their own tests pass), bad packs are refused naming the
/// problem, patterns run in linear time, re-checks reuse unchanged clauses.
final class PackTests: XCTestCase {
    static let packsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("plugins.d/compliance")

    func shipped(_ name: String) throws -> RulePack {
        try PackLoader.load(Array(try Data(contentsOf: Self.packsDirectory.appendingPathComponent(name))))
    }

    func testShippedPacksLoadAndPassTheirTests() throws {
        XCTAssertEqual(try shipped("gdpr.json").reference, "gdpr@2")
        XCTAssertEqual(try shipped("us.json").reference, "us-privacy@1")
        XCTAssertEqual(try shipped("contract-hygiene.json").reference, "contract-hygiene@1")
    }

    func testFailingPackTestIsNamed() throws {
        let pack = #"{"id":"x","version":1,"rules":[{"id":"pii.email","kind":"personal_data","entity":"EMAIL"}],"tests":[{"name":"wrong","text":"no mail here","entities":["EMAIL"]}]}"#
        XCTAssertThrowsError(try PackLoader.load(Array(pack.utf8))) { error in
            XCTAssertEqual((error as? PackError)?.kind, .failingTest)
            XCTAssertEqual((error as? PackError)?.location, "tests[\"wrong\"]")
        }
    }

    func testBadSyntaxAndBadPatternsAreRefused() {
        XCTAssertEqual((try? PackLoader.load(Array("{\"id\":".utf8))).map { _ in "loaded" }, nil)
        let lookahead = #"{"id":"x","version":1,"rules":[{"id":"f","kind":"forbidden","pattern":"a(?=b)"}],"tests":[{"name":"t","text":"c"}]}"#
        XCTAssertThrowsError(try PackLoader.load(Array(lookahead.utf8))) { error in
            XCTAssertEqual((error as? PackError)?.kind, .pattern)
            XCTAssertEqual((error as? PackError)?.location, "rules[0].pattern")
        }
        XCTAssertThrowsError(try Pattern("(a)\\1"))
        XCTAssertThrowsError(try Pattern("a{1,5000}"))
    }

    func testCatastrophicPatternRunsInLinearTime() throws {
        // (a+)+b against a run of a's backtracks exponentially in a backtracking engine.
        let pack = #"{"id":"x","version":1,"rules":[{"id":"f","kind":"forbidden","pattern":"(a+)+b"}],"tests":[{"name":"t","text":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaac","violations":[]}]}"#
        let loaded = try PackLoader.load(Array(pack.utf8))
        let result = PackChecker.check(String(repeating: "a", count: 5000) + "c", packs: [loaded])
        XCTAssertTrue(result.violations.isEmpty)
    }

    func testRecheckReusesUnchangedClauses() throws {
        let pack = try shipped("contract-hygiene.json")
        var clauses = (1...200).map { "\($0). The parties agree on item \($0) of the schedule.\n" }
        clauses[0] = "1. This agreement is governed by the laws of England; information is confidential; liability shall not exceed the fees.\n"
        let first = PackChecker.recheck(clauses.joined(), previous: [], packs: [pack])
        XCTAssertEqual(first.checked, 200)
        clauses[120] = "121. Either party may terminate on 10 days notice.\n"
        let second = PackChecker.recheck(clauses.joined(), previous: first.clauses, packs: [pack])
        XCTAssertEqual(second.checked, 1)
        XCTAssertEqual(second.result.violations.map(\.rule), ["value.termination_notice"])
        XCTAssertEqual(PackChecker.check(clauses.joined(), packs: [pack]).violations, second.result.violations)
    }

    func testRedactionModes() {
        let text = "mail zoë@example.com now"
        let entities = [Entity(type: .email, start: 5, end: 20, score: 1, rule: "pii.email", pack: "p@1")]
        XCTAssertEqual(Redactor.redact(text, entities: entities, mode: .type, key: [1]).text, "mail [EMAIL] now")
        XCTAssertEqual(Redactor.redact(text, entities: entities, mode: .mask, key: [1]).text, "mail ***@*******.*** now")
        let a = Redactor.redact(text, entities: entities, mode: .hash, key: [1]).text
        XCTAssertEqual(a, Redactor.redact(text, entities: entities, mode: .hash, key: [1]).text)
        XCTAssertNotEqual(a, Redactor.redact(text, entities: entities, mode: .hash, key: [2]).text)
    }
}

/// Retention: personal data in a document older than a pack's limit.
final class RetentionTests: XCTestCase {
    func testOldDocumentWithPersonalDataViolatesRetention() throws {
        let pack = try PackLoader.load(Array(try Data(contentsOf: PackTests.packsDirectory.appendingPathComponent("gdpr.json"))))
        let young = PackChecker.check("mail anna@example.com", packs: [pack], ageDays: 10)
        XCTAssertTrue(young.violations.isEmpty)
        let old = PackChecker.addingRetention(young, packs: [pack], ageDays: 800)
        XCTAssertEqual(old.violations.map { $0.rule }, ["retention.personal_data"])
        XCTAssertEqual(PackChecker.addingRetention(old, packs: [pack], ageDays: 900).violations.count, 1)
        XCTAssertTrue(PackChecker.check("no personal data", packs: [pack], ageDays: 800).violations.isEmpty)
    }
}
