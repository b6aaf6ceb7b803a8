import Foundation
import PlexusTesting
import XCTest

/// Every kind of bad input is a problem+json response naming the field and the reason.
final class BadInputTests: DocCompareTestCase {
    typealias Part = DocCompareHarness.FormPart

    let ok: [String: Any] = ["text": "fine\n"]

    func testInvalidUTF8NamesTheFieldAndTheByteOffset() throws {
        let plexus = try plexus()
        let bad: [UInt8] = Array("héllo".utf8) + [0xC3, 0x28] + Array(" world\n".utf8)   // offset 6: 0xC3 not followed by a continuation byte
        let response = try DocCompareHarness.postForm(plexus, [Part.file("old", "a.txt", Array("x\n".utf8)), Part.file("new", "b.txt", bad)])
        DocCompareHarness.assertProblem(response, status: 400, ["field 'new'", "not valid UTF-8", "offset 6"])

        var body = Array(#"{"old": {"text": "a"}, "new": {"text": "b"#.utf8) + [0xFF] + Array(#""}}"#.utf8)
        DocCompareHarness.assertProblem(try DocCompareHarness.post(plexus, contentType: "application/json", body: body),
                                        status: 400, ["body", "not valid UTF-8", "offset 41"])
        body = Array("{not json".utf8)
        DocCompareHarness.assertProblem(try DocCompareHarness.post(plexus, contentType: "application/json", body: body),
                                        status: 400, ["not valid JSON"])
    }

    /// The uploads that crashed (FoundationXML) and hung (ZIPFoundation) the earlier .docx reader
    /// (Fuzz/regressions/docx): a 400 naming the field, and the server goes on serving.
    func testTheDocxInputsThatCrashedOrHungTheReaderAreA400() throws {
        let plexus = try plexus()
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Fuzz/regressions/docx").standardized
        for name in ["crash-foundationxml-start-element", "hang-inflate-needs-more-input"] {
            let input = Array(try Data(contentsOf: directory.appendingPathComponent(name)))
            DocCompareHarness.assertProblem(try DocCompareHarness.postForm(plexus, [Part.file("old", "a.docx", input), Part.file("new", "b.txt", Array("x".utf8))]),
                                            status: 400, ["field 'old'", "broken .docx"])
        }
        let good = try DocCompareHarness.makeDocx(paragraphs: ["hello"])
        let response = try DocCompareHarness.postForm(plexus, [Part.file("old", "a.docx", good), Part.file("new", "b.txt", Array("hello\n".utf8))])
        XCTAssertEqual(response.status, 200)
    }

    func testBrokenDocxNamesThePart() throws {
        let plexus = try plexus()
        let good = try DocCompareHarness.makeDocx(paragraphs: ["hello"])
        let truncated = Array(good.prefix(good.count / 2))
        DocCompareHarness.assertProblem(try DocCompareHarness.postForm(plexus, [Part.file("old", "a.docx", truncated), Part.file("new", "b.txt", Array("x".utf8))]),
                                        status: 400, ["field 'old'", "broken .docx", "zip"])
        let noDocument = try DocCompareHarness.makeDocx(paragraphs: [], omitDocument: true)
        DocCompareHarness.assertProblem(try DocCompareHarness.postForm(plexus, [Part.file("old", "a.txt", Array("x".utf8)), Part.file("new", "b.docx", noDocument)]),
                                        status: 400, ["field 'new'", "word/document.xml", "missing"])
        let malformed = try DocCompareHarness.makeDocx(paragraphs: [], documentXML: "<w:document xmlns:w=\"x\"><w:body><w:p>unclosed</w:body>")
        DocCompareHarness.assertProblem(try DocCompareHarness.postJSON(plexus, ["old": ["docx_base64": Data(malformed).base64EncodedString()], "new": ok]),
                                        status: 400, ["field 'old.docx_base64'", "word/document.xml", "not well-formed"])
        DocCompareHarness.assertProblem(try DocCompareHarness.postJSON(plexus, ["old": ["docx_base64": "@@not base64@@"], "new": ok]),
                                        status: 400, ["field 'old.docx_base64'", "not valid base64"])
    }

    func testMissingAndMalformedFields() throws {
        let plexus = try plexus()
        let cases: [([String: Any], [String])] = [
            (["old": ok], ["missing field 'new'"]),
            (["new": ok], ["missing field 'old'"]),
            (["old": [String: Any](), "new": ok], ["missing field 'old.text' or 'old.docx_base64'"]),
            (["old": ["text": "a", "docx_base64": "UEsDBA=="], "new": ok], ["field 'old'", "exactly one"]),
            (["old": "just a string", "new": ok], ["field 'old' must be an object"]),
            (["old": ["text": 42], "new": ok], ["field 'old.text' must be a string"]),
            (["old": ["txt": "a"], "new": ok], ["unknown field 'old.txt'"]),
            (["old": ok, "new": ok, "colour": "red"], ["unknown field 'colour'", "granularity"]),
            (["old": ok, "new": ok, "ignore_case": "yes please"], ["field 'ignore_case' must be a boolean"]),
            (["old": ok, "new": ok, "granularity": 3], ["field 'granularity' must be a string", "line, word, character"]),
        ]
        for (body, fragments) in cases {
            DocCompareHarness.assertProblem(try DocCompareHarness.postJSON(plexus, body), status: 400, fragments)
        }
        DocCompareHarness.assertProblem(try DocCompareHarness.post(plexus, contentType: "application/json", body: []), status: 400, ["body is empty"])
        DocCompareHarness.assertProblem(try DocCompareHarness.post(plexus, contentType: "application/json", body: Array("[1]".utf8)), status: 400, ["JSON object"])
        DocCompareHarness.assertProblem(try DocCompareHarness.postForm(plexus, [Part.file("old", "a.txt", Array("x".utf8))]), status: 400, ["missing field 'new'"])
        DocCompareHarness.assertProblem(try DocCompareHarness.postForm(plexus, [Part.file("old", "a", []), Part.file("new", "b", []), Part.field("fmt", "html")]),
                                        status: 400, ["unknown form field 'fmt'"])
        DocCompareHarness.assertProblem(try DocCompareHarness.postForm(plexus, [Part.file("old", "a", []), Part.file("old", "b", []), Part.file("new", "b", [])]),
                                        status: 400, ["'old' is given more than once"])
        DocCompareHarness.assertProblem(try DocCompareHarness.post(plexus, contentType: "text/plain", body: Array("hi".utf8)),
                                        status: 415, ["header 'Content-Type'", "application/json", "multipart/form-data"])
    }

    func testMalformedMultipartBodies() throws {
        let plexus = try plexus()
        let parts = [Part.file("old", "a.txt", Array("a\n".utf8)), Part.file("new", "b.txt", Array("b\n".utf8))]
        let body = DocCompareHarness.multipart(parts, boundary: "BOUND")
        DocCompareHarness.assertProblem(try DocCompareHarness.post(plexus, contentType: "multipart/form-data", body: body),
                                        status: 400, ["header 'Content-Type'", "boundary"])
        DocCompareHarness.assertProblem(try DocCompareHarness.post(plexus, contentType: "multipart/form-data; boundary=OTHER", body: body),
                                        status: 400, ["multipart body", "opening boundary"])
        let truncated = Array(body.prefix(body.count - 12))
        DocCompareHarness.assertProblem(try DocCompareHarness.post(plexus, contentType: "multipart/form-data; boundary=BOUND", body: truncated),
                                        status: 400, ["multipart body", "part 2", "not terminated"])
        let noDisposition = Array("--BOUND\r\nContent-Type: text/plain\r\n\r\nx\r\n--BOUND--\r\n".utf8)
        DocCompareHarness.assertProblem(try DocCompareHarness.post(plexus, contentType: "multipart/form-data; boundary=BOUND", body: noDisposition),
                                        status: 400, ["part 1", "Content-Disposition"])
    }

    func testUnknownOptionValuesListTheAllowedOnes() throws {
        let plexus = try plexus()
        let cases: [(String, String, String)] = [
            ("granularity", "sentence", "allowed: line, word, character"),
            ("algorithm", "patience", "allowed: myers, histogram"),
            ("mode", "legal", "allowed: plain, clauses"),
            ("format", "pdf", "allowed: json, unified, html"),
        ]
        for (field, value, allowed) in cases {
            DocCompareHarness.assertProblem(try DocCompareHarness.postJSON(plexus, ["old": ok, "new": ok, field: value]),
                                            status: 400, ["field '\(field)'", "unknown value '\(value)'", allowed])
            DocCompareHarness.assertProblem(try DocCompareHarness.postForm(plexus, [Part.file("old", "a", []), Part.file("new", "b", []), Part.field(field, value)]),
                                            status: 400, ["field '\(field)'", allowed])
        }
        DocCompareHarness.assertProblem(try DocCompareHarness.postForm(plexus, [Part.file("old", "a", []), Part.file("new", "b", []), Part.field("detect_moves", "maybe")]),
                                        status: 400, ["field 'detect_moves'", "allowed: true, false"])
    }

    func testInputsOverTheSizeLimitAre413() throws {
        let plexus = try plexus()
        let limit = DocCompareHarness.maxInputBytes
        // A document over max_input_bytes inside a body the route accepts: the plugin's 413.
        let big = String(repeating: "x", count: limit + 1)
        DocCompareHarness.assertProblem(try DocCompareHarness.postJSON(plexus, ["old": ok, "new": ["text": big]]),
                                        status: 413, ["field 'new.text'", "\(limit + 1) bytes", "limit of \(limit) bytes", "max_input_bytes"])
        DocCompareHarness.assertProblem(try DocCompareHarness.postForm(plexus, [Part.file("old", "a", Array(big.utf8)), Part.file("new", "b", [])]),
                                        status: 413, ["field 'old'", "max_input_bytes"])
        // A small .docx whose text is over the limit once extracted.
        let bomb = try DocCompareHarness.makeDocx(paragraphs: Array(repeating: String(repeating: "lorem ipsum ", count: 100), count: 30))
        XCTAssertLessThan(bomb.count, limit)
        DocCompareHarness.assertProblem(try DocCompareHarness.postForm(plexus, [Part.file("old", "a", []), Part.file("new", "b.docx", bomb)]),
                                        status: 413, ["field 'new'", "extracted from the .docx", "max_input_bytes"])
        // A body over the route's limit (3 × max_input_bytes + 64 KiB): the server's own 413, before the plugin runs.
        let huge = try DocCompareHarness.postJSON(plexus, ["old": ["text": String(repeating: "y", count: 3 * limit + (64 << 10))], "new": ok])
        DocCompareHarness.assertProblem(huge, status: 413, ["body of", "larger than the \(3 * limit + (64 << 10)) bytes this route accepts"])
    }

    func testZipBombIsRefusedWhileInflating() throws {
        let plexus = try plexus()
        let limit = DocCompareHarness.maxInputBytes
        // A .docx under the limit whose word/document.xml inflates to 4 MB: refused at the limit.
        let bomb = try DocCompareHarness.makeDocx(paragraphs: Array(repeating: String(repeating: "a", count: 1000), count: 4000))
        XCTAssertLessThan(bomb.count, limit)
        DocCompareHarness.assertProblem(try DocCompareHarness.postForm(plexus, [Part.file("old", "a.docx", bomb), Part.file("new", "b", [])]),
                                        status: 413, ["field 'old'", "word/document.xml", "inflates to more than \(limit) bytes", "max_input_bytes"])
        // The worker still answers.
        XCTAssertEqual(try DocCompareHarness.postJSON(plexus, ["old": ok, "new": ok]).status, 200)
    }
}
