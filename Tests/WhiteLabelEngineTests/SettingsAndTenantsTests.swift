import Foundation
import WhiteLabelEngine
import XCTest

final class SettingsAndTenantsTests: XCTestCase {
    func json(_ text: String) throws -> JSON { try JSON.parse(Array(text.utf8)) }

    func testSchemaChecksValuesAndRefusesWhatItCannotCheck() throws {
        let schema = try Schema(json(#"{"type":"object","required":["limit"],"additionalProperties":false,"properties":{"limit":{"type":"integer","minimum":1,"maximum":100},"mode":{"enum":["fast","safe"]},"tags":{"type":"array","items":{"type":"string","maxLength":5},"maxItems":2}}}"#))
        XCTAssertNoThrow(try schema.validate(json(#"{"limit":5,"mode":"fast","tags":["a"]}"#)))
        func refusal(_ text: String) throws -> String { do { try schema.validate(try json(text)); return "accepted" } catch { return "\(error)" } }
        XCTAssertEqual(try refusal(#"{"limit":500}"#), "$.limit must be at most 100.0, found 500.0")
        XCTAssertEqual(try refusal(#"{"mode":"fast"}"#), "$ lacks the required property 'limit'")
        XCTAssertEqual(try refusal(#"{"limit":1.5}"#), "$.limit must be integer, found number")
        XCTAssertEqual(try refusal(#"{"limit":1,"x":1}"#), "$ has the property 'x', which the schema does not allow")
        XCTAssertEqual(try refusal(#"{"limit":1,"tags":["toolong"]}"#), "$.tags[0] must be at most 5 characters")
        XCTAssertThrowsError(try Schema(json(#"{"oneOf":[]}"#))) { XCTAssertTrue("\($0)".contains("keyword 'oneOf' is not supported")) }
        XCTAssertThrowsError(try Schema(json(#"{"type":"decimal"}"#))) { XCTAssertTrue("\($0)".contains("type 'decimal'")) }
        XCTAssertThrowsError(try Schema(json(#"{"pattern":"(("}"#))) { XCTAssertTrue("\($0)".contains("'pattern'")) }
        XCTAssertThrowsError(try Schema(json(#"[1]"#)))
    }

    func testLayersResolveInOrderWithHistoryAndRevert() throws {
        let definition = try SettingDefinition(key: "ui.page_size", schema: json(#"{"type":"integer","minimum":1,"maximum":500}"#),
                                               platform: .number(20), plans: ["pro": .number(50)])
        let schema = try Schema(definition.schema)
        var setting = TenantSetting()
        XCTAssertEqual(SettingResolution(definition: definition, plan: "free", setting: setting, user: "ada").winner, .platform)
        XCTAssertEqual(SettingResolution(definition: definition, plan: "pro", setting: setting, user: "ada").value, .number(50))
        _ = try setting.write(.number(100), layer: .tenant, user: nil, schema: schema, by: "boss", at: 1)
        _ = try setting.write(.number(10), layer: .user, user: "ada", schema: schema, by: "ada", at: 2)
        var resolution = SettingResolution(definition: definition, plan: "pro", setting: setting, user: "ada")
        XCTAssertEqual(resolution.winner, .user)
        XCTAssertEqual(resolution.layers.map(\.value), [.number(20), .number(50), .number(100), .number(10)])
        XCTAssertEqual(SettingResolution(definition: definition, plan: "pro", setting: setting, user: "bob").value, .number(100))
        XCTAssertThrowsError(try setting.write(.number(501), layer: .tenant, user: nil, schema: schema, by: "boss", at: 3))
        XCTAssertEqual(setting.history.count, 2, "a refused value leaves no trace")
        _ = try setting.write(.number(200), layer: .tenant, user: nil, schema: schema, by: "boss", at: 4)
        let revert = try setting.revert(to: 1, schema: schema, by: "boss", at: 5)
        XCTAssertEqual(revert.version, 4)
        XCTAssertEqual(revert.revertOf, 1)
        resolution = SettingResolution(definition: definition, plan: "pro", setting: setting, user: "bob")
        XCTAssertEqual(resolution.value, .number(100))
        XCTAssertThrowsError(try SettingDefinition(key: "x", schema: json(#"{"type":"string"}"#), platform: .number(1)))
    }

    func testDomainsBelongToOneTenantAndFailedChangesLeaveNoTrace() throws {
        var registry = TenantRegistry()
        try registry.create(Tenant(id: "acme", displayName: "Acme", plan: "pro", domains: ["acme.example.com"], contact: "ops@acme.test"))
        try registry.create(Tenant(id: "globex", displayName: "Globex", plan: "free", contact: "it@globex.test"))
        let before = registry
        XCTAssertThrowsError(try registry.reserve("acme.example.com", for: "globex")) { error in
            XCTAssertEqual("\(error)", "domain 'acme.example.com' is owned by tenant 'acme'")
        }
        XCTAssertEqual(registry, before)
        XCTAssertThrowsError(try registry.create(Tenant(id: "acme", displayName: "Again", plan: "pro", contact: "a@b.c")))
        XCTAssertThrowsError(try registry.reserve("Acme.Example.com:8080", for: "globex")) { XCTAssertTrue("\($0)".contains("lower-case DNS name")) }
        XCTAssertThrowsError(try Tenant(id: "Bad Id", displayName: "x", plan: "p", contact: "a@b.c").validate())
        XCTAssertThrowsError(try Tenant(id: "ok", displayName: "x", plan: "p", contact: "nobody").validate())
        _ = try registry.release("acme.example.com", from: "acme")
        XCTAssertEqual(try registry.reserve("acme.example.com", for: "globex").domains, ["acme.example.com"])
        try registry.delete("globex")
        XCTAssertNil(registry.owners["acme.example.com"])
    }

    func testCompensatingSequenceUndoesInReverse() async throws {
        actor Log { var lines: [String] = []; func add(_ line: String) { lines.append(line) } }
        let log = Log()
        struct Boom: Error {}
        let sequence = CompensatingSequence<Int>([
            .init("a", run: { $0 += 1; await log.add("run a") }, undo: { _ in await log.add("undo a") }),
            .init("b", run: { $0 += 1; await log.add("run b") }, undo: { _ in await log.add("undo b") }),
            .init("c", run: { _ in throw Boom() }, undo: { _ in await log.add("undo c") }),
        ])
        do {
            _ = try await sequence.run(0)
            XCTFail("the sequence should fail")
        } catch let failure as CompensatingSequence<Int>.Failure {
            XCTAssertEqual(failure.step, "c")
            XCTAssertEqual(failure.undone, ["c", "b", "a"])
        }
        let lines = await log.lines
        XCTAssertEqual(lines, ["run a", "run b", "undo c", "undo b", "undo a"])
    }
}
