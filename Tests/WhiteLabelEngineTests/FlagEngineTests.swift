import Foundation
import WhiteLabelEngine
import XCTest

final class FlagEngineTests: XCTestCase {
    func testMurmur3MatchesReferenceVectors() {
        func hash(_ text: String, _ seed: UInt32 = 0) -> UInt32 { Array(text.utf8).withUnsafeBytes { Murmur3.hash($0, seed: seed) } }
        XCTAssertEqual(hash(""), 0)
        XCTAssertEqual(hash("", 1), 0x514E_28B7)
        XCTAssertEqual(hash("hello"), 0x248B_FA47)
        XCTAssertEqual(hash("The quick brown fox jumps over the lazy dog"), 0x2E4F_F723)
        XCTAssertEqual(Murmur3.hash(prefix: Array("group".utf8), "user-1"), hash("group:user-1"))
    }

    func rollout(_ percentage: Double) throws -> CompiledFlag {
        try CompiledFlag(FlagDefinition(name: "checkout", enabled: true, strategies: [Strategy(name: "gradualRollout", percentage: percentage)]))
    }

    /// 25% of 100,000 users within 0.5 points; raising to 50% keeps every user who had it.
    func testRolloutDistributionAndStickiness() throws {
        let quarter = try rollout(25), half = try rollout(50)
        var had = 0, lost = 0, atHalf = 0
        for index in 0..<100_000 {
            let context = FlagContext(userId: "user-\(index)")
            let before = quarter.evaluate(context, now: 0).enabled
            let after = half.evaluate(context, now: 0).enabled
            if before { had += 1 }
            if after { atHalf += 1 }
            if before && !after { lost += 1 }
        }
        XCTAssertEqual(Double(had) / 1000, 25, accuracy: 0.5, "25% rollout gave \(had) of 100000")
        XCTAssertEqual(Double(atHalf) / 1000, 50, accuracy: 0.5, "50% rollout gave \(atHalf) of 100000")
        XCTAssertEqual(lost, 0)
        XCTAssertFalse(try rollout(0).evaluate(FlagContext(userId: "u"), now: 0).enabled)
        XCTAssertTrue(try rollout(100).evaluate(FlagContext(userId: "u"), now: 0).enabled)
        // No stickiness value: off, and explain says why.
        XCTAssertTrue(try rollout(100).explain(FlagContext(), now: 0).steps.joined().contains("no userId"))
    }

    func testConstraintsSemverDatesAndExplain() throws {
        let flag = try CompiledFlag(FlagDefinition(name: "beta", enabled: true, strategies: [
            Strategy(name: "default", constraints: [
                Constraint(contextName: "plan", operator: .in, values: ["pro", "enterprise"]),
                Constraint(contextName: "appVersion", operator: .semverGt, value: "2.1.0"),
                Constraint(contextName: "currentTime", operator: .dateAfter, value: "2026-01-01T00:00:00Z"),
            ]),
            Strategy(name: "gradualRollout", percentage: 100, stickiness: "properties.org",
                     constraints: [Constraint(contextName: "properties.country", operator: .in, values: ["NO"])]),
        ]))
        let now = ISO8601.parse("2026-12-06T00:00:00Z")!
        var context = FlagContext(userId: "u1", plan: "pro", appVersion: "2.2.0-rc.1")
        var explanation = flag.explain(context, now: now)
        XCTAssertTrue(explanation.result.enabled)
        XCTAssertEqual(explanation.decidedBy, "strategy 1 (default)")
        context.appVersion = "2.1.0"
        explanation = flag.explain(context, now: now)
        XCTAssertFalse(explanation.result.enabled)
        XCTAssertEqual(explanation.decidedBy, "no strategy matched")
        XCTAssertTrue(explanation.steps[0].contains("appVersion SEMVER_GT 2.1.0 fails (the context's value is '2.1.0')"), explanation.steps[0])
        XCTAssertFalse(flag.evaluate(FlagContext(userId: "u1", plan: "pro", appVersion: "3.0.0"), now: ISO8601.parse("2025-06-01")!).enabled)
        context.properties = ["country": "NO", "org": "acme"]
        XCTAssertEqual(flag.explain(context, now: now).decidedBy, "strategy 2 (gradualRollout)")
        // Versions order as semver says.
        XCTAssertLessThan(SemanticVersion("1.0.0-alpha")!, SemanticVersion("1.0.0-alpha.1")!)
        XCTAssertLessThan(SemanticVersion("1.0.0-beta.11")!, SemanticVersion("1.0.0-rc.1")!)
        XCTAssertLessThan(SemanticVersion("1.0.0-rc.1")!, SemanticVersion("1.0.0")!)
        XCTAssertNil(SemanticVersion("1.0"))
    }

    func testVariantsByWeightAreStable() throws {
        let flag = try CompiledFlag(FlagDefinition(name: "colour", enabled: true, variants: [
            Variant(name: "blue", weight: 750, payload: .string("#00f")), Variant(name: "red", weight: 250),
        ]))
        var blue = 0
        for index in 0..<20_000 where flag.evaluate(FlagContext(userId: "u\(index)"), now: 0).variant == "blue" { blue += 1 }
        XCTAssertEqual(Double(blue) / 20_000, 0.75, accuracy: 0.02)
        let one = flag.evaluate(FlagContext(userId: "u7"), now: 0)
        XCTAssertEqual(one, flag.evaluate(FlagContext(userId: "u7"), now: 0))
        XCTAssertFalse(try CompiledFlag(FlagDefinition(name: "off", enabled: false)).evaluate(FlagContext(), now: 0).enabled)
    }

    func testBadDefinitionsAreRefusedNamingTheProblem() {
        func refusal(_ definition: FlagDefinition) -> String {
            do { _ = try CompiledFlag(definition); return "accepted" } catch { return "\(error)" }
        }
        XCTAssertTrue(refusal(FlagDefinition(name: "f", enabled: true, strategies: [Strategy(name: "gradualRollout", percentage: 101)])).contains("percentage 101.0 is outside 0 to 100"))
        XCTAssertTrue(refusal(FlagDefinition(name: "f", enabled: true, strategies: [Strategy(name: "default", constraints: [
            Constraint(contextName: "colour", operator: .in, values: ["x"])])])).contains("unknown context field 'colour'"))
        XCTAssertTrue(refusal(FlagDefinition(name: "f", enabled: true, strategies: [Strategy(name: "default", constraints: [
            Constraint(contextName: "appVersion", operator: .semverGt, value: "two")])])).contains("needs a semantic version"))
        XCTAssertTrue(refusal(FlagDefinition(name: "f", enabled: true, strategies: [Strategy(name: "default", constraints: [
            Constraint(contextName: "currentTime", operator: .dateAfter, value: "yesterday")])])).contains("ISO 8601"))
        XCTAssertTrue(refusal(FlagDefinition(name: "f", enabled: true, strategies: [Strategy(name: "gradualRollout", percentage: 5, stickiness: "shoeSize")])).contains("stickiness 'shoeSize'"))
        XCTAssertTrue(refusal(FlagDefinition(name: "bad name", enabled: true)).contains("flag name"))
        XCTAssertTrue(refusal(FlagDefinition(name: "f", enabled: true, strategies: [Strategy(name: "userWithId")])).contains("unknown strategy"))
        XCTAssertTrue(refusal(FlagDefinition(name: "f", enabled: true, variants: [Variant(name: "a", weight: 0)])).contains("add up to 0"))
    }
}

final class FlagContextJSONTests: XCTestCase {
    func testContextsParseStrictlyAndResultsEncode() throws {
        let context = try FlagContextJSON.parse(Array(#" {"userId":"u\"1","appVersion":"2.1.0","currentTime":1.5e9,"properties":{"country":"NO","é":"ü"},"plan":null} "#.utf8))
        XCTAssertEqual(context, FlagContext(userId: "u\"1", appVersion: "2.1.0", currentTime: 1.5e9, properties: ["country": "NO", "é": "ü"]))
        XCTAssertEqual(try FlagContextJSON.parse(Array("{}".utf8)), FlagContext())
        for (text, problem) in [("{\"colour\":\"red\"}", "'colour' is not a context field"), ("{\"userId\":7}", "'userId' must be a string"),
                                ("[1]", "not a JSON object"), ("{\"userId\":\"a\"} x", "text after"), ("{\"userId\":\"a\"", "ends early"),
                                ("{\"properties\":{\"a\":1}}", "'properties.a' must be a string")] {
            XCTAssertThrowsError(try FlagContextJSON.parse(Array(text.utf8)), text) { XCTAssertTrue("\($0)".contains(problem), "\(text): \($0)") }
        }
        XCTAssertEqual(try FlagContextJSON.queryValue("context", in: "a=1&context=%7B%22x%22%3A+1%7D&b"), Array(#"{"x": 1}"#.utf8))
        XCTAssertNil(try FlagContextJSON.queryValue("context", in: "contexts=1&con=2"))
        XCTAssertThrowsError(try FlagContextJSON.queryValue("context", in: "context=%7"))
        XCTAssertThrowsError(try FlagContextJSON.queryValue("context", in: "context=%zz"))
        XCTAssertThrowsError(try FlagContextJSON.queryValue("context", in: "context=%41%"), "an escape cut at the end")
        XCTAssertEqual(try FlagContextJSON.queryValue("context", in: "context=1&context=%32"), Array("2".utf8), "the last occurrence wins")
        XCTAssertEqual(try FlagContextJSON.queryValue("context", in: "x&context="), [])
        // Strings that are not UTF-8, inside a key or a value, are refused; multi-byte UTF-8 is kept.
        XCTAssertThrowsError(try FlagContextJSON.parse([UInt8](#"{"userId":""#.utf8) + [0xFF, 0xFE] + [UInt8](#""}"#.utf8)))
        XCTAssertThrowsError(try FlagContextJSON.parse([UInt8](#"{"properties":{""#.utf8) + [0xC3] + [UInt8](#"":"x"}}"#.utf8)))
        XCTAssertEqual(try FlagContextJSON.parse(Array(#"{"userId":"Åse"}"#.utf8)).userId, "Åse")
        let encoded = FlagContextJSON.encode([("a", FlagResult.on), ("b\"", FlagResult(enabled: true, variant: "blue", payload: .number(1))), ("c", .off)])
        XCTAssertEqual(String(decoding: encoded, as: UTF8.self), #"{"a":{"enabled":true},"b\"":{"enabled":true,"variant":"blue","payload":1},"c":{"enabled":false}}"#)
        XCTAssertEqual(try JSONDecoder().decode([String: FlagResult].self, from: Data(encoded))["b\""]?.variant, "blue")
    }
}
