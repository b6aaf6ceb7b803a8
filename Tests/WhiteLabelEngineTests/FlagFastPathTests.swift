import Foundation
import WhiteLabelEngine
import XCTest

/// The evaluation path's shortcuts (the hash folded past its group, the context's version read
/// once) give exactly the answers of the plain way.
final class FlagFastPathTests: XCTestCase {
    func joinedHash(_ prefix: [UInt8], _ value: [UInt8], seed: UInt32 = 0) -> UInt32 {
        (prefix + [UInt8(ascii: ":")] + value).withUnsafeBytes { Murmur3.hash($0, seed: seed) }
    }

    /// Every split of prefix and value length modulo 4 (the carry's shifts), with several seeds,
    /// against MurmurHash3 of the joined bytes.
    func testPrefixHashEqualsTheJoinedBytesHash() {
        var generator = SystemRandomNumberGenerator()
        for prefixLength in 0...13 {
            for valueLength in 0...21 {
                for seed: UInt32 in [0, 1, 86_028_157] {
                    let prefix = (0..<prefixLength).map { _ in UInt8.random(in: 0...255, using: &generator) }
                    let value = (0..<valueLength).map { _ in UInt8.random(in: 0...255, using: &generator) }
                    let folded = value.withUnsafeBytes { Murmur3.Prefix(prefix, seed: seed).hash($0) }
                    XCTAssertEqual(folded, joinedHash(prefix, value, seed: seed), "prefix \(prefixLength) bytes, value \(valueLength) bytes, seed \(seed)")
                }
            }
        }
        // A String value: small (inline), large (heap), multi-byte and a substring's copy.
        for value in ["", "u", "user-1", "a-rather-long-user-id-0123456789", "Åse-ünïcödé-ユーザー", String("xuser-7y".dropFirst().dropLast())] {
            XCTAssertEqual(Murmur3.Prefix(Array("checkout".utf8)).hash(value), joinedHash(Array("checkout".utf8), Array(value.utf8)), value)
        }
    }

    /// Buckets pinned to values from an independent MurmurHash3 (Python, the reference
    /// algorithm), so a user's bucket never moves between releases.
    func testBucketsArePinned() {
        XCTAssertEqual(Murmur3.hash(prefix: Array("checkout".utf8), "user-1"), 3_498_952_333)
        XCTAssertEqual(Murmur3.bucket(group: Murmur3.Prefix(Array("checkout".utf8)), "user-1"), 34)
        XCTAssertEqual(Murmur3.bucket(group: Murmur3.Prefix(Array("checkout".utf8)), "user-42"), 42)
        XCTAssertEqual(Murmur3.bucket(group: Murmur3.Prefix(Array("new-checkout".utf8)), "user-4095"), 1)
        XCTAssertEqual(Murmur3.bucket(group: Murmur3.Prefix(Array("g".utf8)), "Åse"), 50)
        XCTAssertEqual(Murmur3.bucket(group: Murmur3.Prefix(Array("abc".utf8)), "a-rather-long-user-id-0123456789"), 75)
        XCTAssertEqual(Murmur3.Prefix(Array("colour".utf8), seed: 86_028_157).hash("u7"), 2_657_281_631)
    }

    /// SEMVER_* on the context's version read once against any bound, pre-releases both sides.
    func testVersionReadOnceComparesAsSemver() throws {
        let versions = ["2.1.0", "2.1.0-rc.1", "2.1.0-rc.2", "2.0.9", "2.1.1", "v2.1.0", "2.1.0+build.5", "10.0.0", "2.1", "two", ""]
        for op in [Constraint.Operator.semverEq, .semverGt, .semverLt] {
            for boundText in ["2.1.0", "2.1.0-rc.1", "2.0.10"] {
                let flag = try CompiledFlag(FlagDefinition(name: "v", enabled: true, strategies: [
                    Strategy(name: "default", constraints: [Constraint(contextName: "appVersion", operator: op, value: boundText)]),
                ]))
                let viaProperty = try CompiledFlag(FlagDefinition(name: "p", enabled: true, strategies: [
                    Strategy(name: "default", constraints: [Constraint(contextName: "properties.version", operator: op, value: boundText)]),
                ]))
                let bound = try XCTUnwrap(SemanticVersion(boundText))
                for text in versions {
                    let expected: Bool
                    if let value = SemanticVersion(text) {
                        expected = op == .semverEq ? value == bound : op == .semverGt ? value > bound : value < bound
                    } else {
                        expected = false
                    }
                    let context = FlagContext(userId: "u", appVersion: text, properties: ["version": text])
                    XCTAssertEqual(flag.evaluate(context, now: 0).enabled, expected, "\(text) \(op.rawValue) \(boundText)")
                    XCTAssertEqual(viaProperty.evaluate(context, now: 0).enabled, expected, "properties.version \(text) \(op.rawValue) \(boundText)")
                    // Changed after it was built: the version is read again.
                    var changed = FlagContext(userId: "u", appVersion: "0.0.1")
                    changed.appVersion = text
                    XCTAssertEqual(flag.evaluate(changed, now: 0).enabled, expected, "changed to \(text)")
                }
                XCTAssertFalse(flag.evaluate(FlagContext(userId: "u"), now: 0).enabled, "no version")
            }
        }
        // Decoded contexts read their version too.
        let decoded = try JSONDecoder().decode(FlagContext.self, from: Data(#"{"appVersion":"3.0.0"}"#.utf8))
        let parsed = try FlagContextJSON.parse(Array(#"{"appVersion":"3.0.0"}"#.utf8))
        let above = try CompiledFlag(FlagDefinition(name: "a", enabled: true, strategies: [
            Strategy(name: "default", constraints: [Constraint(contextName: "appVersion", operator: .semverGt, value: "2.0.0")]),
        ]))
        XCTAssertTrue(above.evaluate(decoded, now: 0).enabled)
        XCTAssertTrue(above.evaluate(parsed, now: 0).enabled)
        XCTAssertEqual(decoded, FlagContext(appVersion: "3.0.0"))
    }

    /// The evaluation path (no words) and explain decide alike, over flags of every kind and many contexts.
    func testEvaluateAgreesWithExplain() throws {
        let flags = try [
            FlagDefinition(name: "mixed", enabled: true, strategies: [
                Strategy(name: "gradualRollout", percentage: 40, constraints: [
                    Constraint(contextName: "plan", operator: .in, values: ["pro", "enterprise"]),
                    Constraint(contextName: "appVersion", operator: .semverGt, value: "2.0.0"),
                    Constraint(contextName: "properties.country", operator: .in, values: ["NO", "SE", "DK", "FI"]),
                ]),
                Strategy(name: "gradualRollout", percentage: 10, stickiness: "sessionId", groupId: "shared",
                         constraints: [Constraint(contextName: "userId", operator: .strStartsWith, values: ["user-1"])]),
                Strategy(name: "default", constraints: [Constraint(contextName: "properties.age", operator: .numGte, value: "65", inverted: true),
                                                        Constraint(contextName: "plan", operator: .notIn, values: (0..<40).map { "plan-\($0)" })]),
            ], variants: [Variant(name: "a", weight: 3), Variant(name: "b", weight: 1)]),
            FlagDefinition(name: "off", enabled: false, strategies: [Strategy(name: "default")]),
            FlagDefinition(name: "everyone", enabled: true),
            FlagDefinition(name: "dated", enabled: true, strategies: [
                Strategy(name: "default", constraints: [Constraint(contextName: "currentTime", operator: .dateAfter, value: "2026-01-01")]),
            ]),
        ].map(CompiledFlag.init)
        let plans: [String?] = ["pro", "free", nil, "plan-3"]
        let versions: [String?] = ["2.1.0", "1.9.0", "2.0.0-rc.1", nil, "v3.0.0"]
        var on = 0
        for index in 0..<2000 {
            let context = FlagContext(userId: index % 7 == 0 ? nil : "user-\(index)", sessionId: "s\(index)", plan: plans[index % 4],
                                      appVersion: versions[index % 5], currentTime: index % 3 == 0 ? nil : Double(1_760_000_000 + index * 10_000),
                                      properties: ["country": ["NO", "SE", "DE", "FI"][index % 4], "age": "\(index % 90)"])
            for flag in flags {
                let result = flag.evaluate(context, now: 1_780_000_000)
                XCTAssertEqual(result, flag.explain(context, now: 1_780_000_000).result, "\(flag.definition.name) for \(context)")
                if result.enabled { on += 1 }
            }
        }
        XCTAssertGreaterThan(on, 2000, "the flags came out on for some contexts")
        XCTAssertLessThan(on, 8000, "and off for others")
    }
}
