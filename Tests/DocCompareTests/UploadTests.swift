import Foundation
import PlexusTesting
import XCTest

/// `multipart/form-data` uploads and .docx documents (multipart and base64 JSON).
final class UploadTests: DocCompareTestCase {
    typealias Part = DocCompareHarness.FormPart

    func testMultipartTextUploadWithOptionFields() throws {
        let plexus = try plexus()
        // Content with CRLFs, lines starting with "--" and a near-miss of the boundary.
        let boundary = "xYzBoundary42"
        let old = "first\r\n--xYzBoundary4\r\n--not a boundary\nend\n"
        let new = "first\r\n--xYzBoundary4\r\n--still not a boundary\nend\nextra\n"
        let parts = [Part.field("format", "unified"), Part.file("old", "old;v1.txt", Array(old.utf8), type: "text/plain"),
                     Part.file("new", "new.txt", Array(new.utf8)), Part.field("algorithm", "histogram")]
        let body = DocCompareHarness.multipart(parts, boundary: boundary, preamble: "ignored preamble\r\n", epilogue: "ignored epilogue")
        let response = try DocCompareHarness.post(plexus, contentType: "multipart/form-data; boundary=\"\(boundary)\"", body: body)
        XCTAssertEqual(response.status, 200, response.text)
        XCTAssertEqual(response.header("Content-Type"), "text/x-diff; charset=utf-8")
        XCTAssertTrue(response.text.hasPrefix("--- old;v1.txt\n+++ new.txt\n"), response.text)
        XCTAssertEqual(try DocCompareHarness.applyWithGNUPatch(response.body, to: Array(old.utf8)), Array(new.utf8))

        // JSON answer from a form, with filenames echoed and flags given as text.
        let json = try DocCompareHarness.json(try DocCompareHarness.postForm(plexus, [
            Part.file("old", "a.txt", Array(Samples.old.utf8)), Part.file("new", "b.txt", Array(Samples.new.utf8)),
            Part.field("granularity", "word"), Part.field("ignore_case", "true"), Part.field("detect_moves", "false"),
        ]))
        XCTAssertEqual((json["old"] as? [String: Any])?["filename"] as? String, "a.txt")
        XCTAssertEqual((json["options"] as? [String: Any])?["ignore_case"] as? Bool, true)
        XCTAssertEqual((json["options"] as? [String: Any])?["detect_moves"] as? Bool, false)
        XCTAssertEqual(String(decoding: try DocCompareHarness.applyEditScript(json, to: Array(Samples.old.utf8)), as: UTF8.self), Samples.new)

        // The redline route takes forms too.
        let page = try DocCompareHarness.postForm(plexus, "/api/v1/documents/redline", [
            Part.file("old", "a.txt", Array(Samples.old.utf8)), Part.file("new", "b.txt", Array(Samples.new.utf8)),
        ])
        XCTAssertEqual(page.status, 200)
        XCTAssertEqual(try DocCompareHarness.resolveRedline(page.text, accept: true), Samples.new)
        XCTAssertEqual(try DocCompareHarness.resolveRedline(page.text, accept: false), Samples.old)
    }

    func testEmptyFilePartsAndBinaryBoundaryBytes() throws {
        let plexus = try plexus()
        let json = try DocCompareHarness.json(try DocCompareHarness.postForm(plexus, [
            Part.file("old", "empty.txt", []), Part.file("new", "b.txt", Array("only line\n".utf8)),
        ]))
        XCTAssertEqual((json["statistics"] as? [String: Any])?["inserted"] as? Int, 1)
        XCTAssertEqual(String(decoding: try DocCompareHarness.applyEditScript(json, to: []), as: UTF8.self), "only line\n")
    }

    func testDocxUploadsAreComparedByParagraph() throws {
        let plexus = try plexus()
        let oldParagraphs = ["Clause one: the supplier delivers.", "Clause two: payment within 30 days & no <fees>.", "Clause three."]
        let newParagraphs = ["Clause one: the supplier delivers.", "Clause two: payment within 60 days & no <fees>.", "Clause three.", "Clause four is new."]
        let oldDocx = try DocCompareHarness.makeDocx(paragraphs: oldParagraphs)
        let newDocx = try DocCompareHarness.makeDocx(paragraphs: newParagraphs)
        XCTAssertEqual(Array(oldDocx.prefix(4)), [0x50, 0x4B, 0x03, 0x04])
        let oldText = oldParagraphs.joined(separator: "\n") + "\n", newText = newParagraphs.joined(separator: "\n") + "\n"

        // Multipart: the zip signature marks .docx, whatever the file name says.
        let form = try DocCompareHarness.json(try DocCompareHarness.postForm(plexus, [
            Part.file("old", "contract-v1.docx", oldDocx, type: "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
            Part.file("new", "contract-v2.bin", newDocx),
        ]))
        XCTAssertEqual((form["old"] as? [String: Any])?["source"] as? String, "docx")
        XCTAssertEqual((form["new"] as? [String: Any])?["source"] as? String, "docx")
        XCTAssertEqual((form["new"] as? [String: Any])?["text_bytes"] as? Int, newText.utf8.count)
        let statistics = form["statistics"] as? [String: Any] ?? [:]
        XCTAssertEqual(statistics["deleted"] as? Int, 1)
        XCTAssertEqual(statistics["inserted"] as? Int, 2)
        XCTAssertEqual(String(decoding: try DocCompareHarness.applyEditScript(form, to: Array(oldText.utf8)), as: UTF8.self), newText)

        // JSON with base64, mixed with a text side, as a unified diff.
        let unified = try DocCompareHarness.postJSON(plexus, [
            "old": ["docx_base64": Data(oldDocx).base64EncodedString(options: .lineLength76Characters)],
            "new": ["text": newText], "format": "unified",
        ])
        XCTAssertEqual(unified.status, 200, unified.text)
        XCTAssertEqual(try DocCompareHarness.applyWithGNUPatch(unified.body, to: Array(oldText.utf8)), Array(newText.utf8))

        // Redline of two .docx files.
        let page = try DocCompareHarness.postJSON(plexus, "/api/v1/documents/redline", [
            "old": ["docx_base64": Data(oldDocx).base64EncodedString()], "new": ["docx_base64": Data(newDocx).base64EncodedString()],
        ])
        XCTAssertEqual(try DocCompareHarness.resolveRedline(page.text, accept: true), newText)
        XCTAssertEqual(try DocCompareHarness.resolveRedline(page.text, accept: false), oldText)
    }
}
