import Foundation
import WorkflowEngine
import XCTest

/// Definitions that are refused say where (a JSON path) and why.
final class DefinitionParserTests: XCTestCase {
    func refusal(_ text: String, publishable: [String] = []) -> DefinitionError? {
        do { _ = try definition(text, publishable: publishable); return nil } catch { return error as? DefinitionError }
    }

    func testAValidDefinitionParses() throws {
        let parsed = try definition("""
        {"name": "order", "input": ["id"], "steps": [
          {"id": "reserve", "type": "call", "service": "stock.reserve", "input": {"order": "$.input.id"}, "output": "reservation",
           "retry": {"max_attempts": 3, "backoff_ms": 10}, "compensate": {"service": "stock.release", "input": {"r": "$.reservation.id"}}},
          {"id": "both", "type": "parallel", "branches": [[{"id": "a", "type": "sleep", "for_ms": 5}], [{"id": "b", "type": "wait_signal", "signal": "go"}]]},
          {"id": "done", "type": "publish", "topic": "orders.done", "payload": {"id": "$.input.id"}}
        ]}
        """)
        XCTAssertEqual(parsed.name, "order")
        XCTAssertEqual(parsed.stepsByID.count, 5)
        XCTAssertEqual(parsed.stepsByID["reserve"]?.compensation?.service, "stock.release")
        XCTAssertEqual(parsed.stepsByID["reserve"]?.compensation?.retry.maxAttempts, 3, "a compensation gets three attempts by default")
    }

    func testUnknownStepTypeIsRefusedWithItsPath() {
        let error = refusal(#"{"name": "x", "steps": [{"id": "a", "type": "call", "service": "s.t"}, {"id": "b", "type": "teleport"}]}"#)
        XCTAssertEqual(error?.path, "$.steps[1].type")
        XCTAssertTrue(error?.message.contains("unknown step type 'teleport'") ?? false, "\(String(describing: error))")
    }

    func testACycleIsRefusedNamingItsSteps() {
        let error = refusal("""
        {"name": "x", "steps": [{"id": "a", "type": "call", "service": "s.a"}, {"id": "b", "type": "call", "service": "s.b", "next": "a"}]}
        """)
        XCTAssertEqual(error?.path, "$.steps[1].next")
        XCTAssertTrue(error?.message.contains("cycle: a -> b -> a") ?? false, "\(String(describing: error))")
    }

    func testAChoiceLoopInsideABranchIsACycleToo() {
        let error = refusal("""
        {"name": "x", "steps": [{"id": "p", "type": "parallel", "branches": [[
          {"id": "a", "type": "call", "service": "s.a"},
          {"id": "c", "type": "choice", "choices": [{"when": {"path": "$.input.n", "op": "gt", "value": 1}, "next": "a"}], "default": "end"}]]}]}
        """)
        XCTAssertEqual(error?.path, "$.steps[0].branches[0][1].choices[0].next")
    }

    func testAReferenceToAnUnknownStateFieldIsRefused() {
        let error = refusal("""
        {"name": "x", "steps": [{"id": "a", "type": "call", "service": "s.a", "output": "first"},
                                {"id": "b", "type": "call", "service": "s.b", "input": {"v": "$.frist.value"}}]}
        """)
        XCTAssertEqual(error?.path, "$.steps[1].input.v")
        XCTAssertTrue(error?.message.contains("unknown state field 'frist'") ?? false, "\(String(describing: error))")
    }

    func testAnUndeclaredInputFieldIsRefused() {
        let error = refusal(#"{"name": "x", "input": ["tenant"], "steps": [{"id": "a", "type": "call", "service": "s.a", "input": {"t": "{{$.input.tenat}}"}}]}"#)
        XCTAssertEqual(error?.path, "$.steps[0].input.t")
    }

    func testACompensationOfAMissingStepIsRefused() {
        let error = refusal(#"{"name": "x", "steps": [{"id": "a", "type": "call", "service": "s.a"}], "compensations": {"ghost": {"service": "s.undo"}}}"#)
        XCTAssertEqual(error?.path, "$.compensations.ghost")
        XCTAssertTrue(error?.message.contains("no step 'ghost'") ?? false)
    }

    func testOutOfRangeNumbersUnknownFieldsAndDuplicatesAreRefused() {
        XCTAssertEqual(refusal(#"{"name": "x", "steps": [{"id": "a", "type": "call", "service": "s.a", "retry": {"max_attempts": 1000}}]}"#)?.path,
                       "$.steps[0].retry.max_attempts")
        XCTAssertEqual(refusal(#"{"name": "x", "steps": [{"id": "a", "type": "call", "service": "s.a", "timeout_ms": -1}]}"#)?.path, "$.steps[0].timeout_ms")
        XCTAssertEqual(refusal(#"{"name": "x", "steps": [{"id": "a", "type": "sleep", "for_ms": 5, "colour": "red"}]}"#)?.path, "$.steps[0].colour")
        XCTAssertEqual(refusal(#"{"name": "x", "steps": [{"id": "a", "type": "fail"}, {"id": "a", "type": "fail"}]}"#)?.path, "$.steps[1].id")
        XCTAssertEqual(refusal(#"{"name": "X Y", "steps": [{"id": "a", "type": "fail"}]}"#)?.path, "$.name")
        XCTAssertEqual(refusal(#"{"name": "x", "steps": []}"#)?.path, "$.steps")
        XCTAssertEqual(refusal(#"["not", "an", "object"]"#)?.path, "$")
        XCTAssertEqual(refusal(#"{"name": "x", "steps": [{"id": "a", "type": "call", "service": "s.a", "next": "nowhere"}]}"#)?.path, "$.steps[0].next")
        XCTAssertEqual(refusal(#"{"name": "x", "steps": [{"id": "a", "type": "choice", "choices": [{"when": {"path": "$.input.x", "op": "near", "value": 1}, "next": "end"}]}]}"#)?.path,
                       "$.steps[0].choices[0].when.op")
    }

    func testAPublishOnATopicThePluginDoesNotOwnIsRefused() {
        let error = refusal(#"{"name": "x", "steps": [{"id": "a", "type": "publish", "topic": "system.halt"}]}"#, publishable: ["routed.#"])
        XCTAssertEqual(error?.path, "$.steps[0].topic")
    }

    func testTheShippedDefinitionsParse() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("plugins.d/workflows")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".json") }
        XCTAssertEqual(Set(files), ["tenant-onboarding.json", "document-analysis.json"])
        for file in files {
            let bytes = Array(try Data(contentsOf: directory.appendingPathComponent(file)))
            XCTAssertNoThrow(try DefinitionParser(publishable: ["tenant.onboarded", "document.analyzed"]).parse(bytes), file)
        }
    }
}

/// The same definition in TOML.
final class TOMLDefinitionTests: XCTestCase {
    func testATOMLDefinitionParsesLikeItsJSON() throws {
        let toml = """
        name = "order"
        input = ["id"]

        [[steps]]
        id = "reserve"
        type = "call"
        service = "stock.reserve"
        input = { order = "$.input.id" }
        output = "stock"
        retry = { max_attempts = 3, backoff_ms = 10 }
        compensate = { service = "stock.release", input = { ref = "$.stock.ref" } }

        [[steps]]
        id = "done"
        type = "publish"
        topic = "routed.done"
        """
        let json = """
        {"name": "order", "input": ["id"], "steps": [
          {"id": "reserve", "type": "call", "service": "stock.reserve", "input": {"order": "$.input.id"}, "output": "stock",
           "retry": {"max_attempts": 3, "backoff_ms": 10}, "compensate": {"service": "stock.release", "input": {"ref": "$.stock.ref"}}},
          {"id": "done", "type": "publish", "topic": "routed.done"}]}
        """
        XCTAssertEqual(try DefinitionParser().parse(toml: toml), try definition(json))
        XCTAssertThrowsError(try DefinitionParser().parse(toml: "name = \"x\"\n[[steps]]\nid = \"a\"\ntype = \"warp\"\n")) { error in
            XCTAssertEqual((error as? DefinitionError)?.path, "$.steps[0].type")
        }
        XCTAssertThrowsError(try DefinitionParser().parse(toml: "name = = 1")) { error in
            XCTAssertTrue("\(error)".contains("TOML line 1"), "\(error)")
        }
    }
}
