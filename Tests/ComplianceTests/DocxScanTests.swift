import Foundation
import PlexusTesting
import XCTest

/// A real .docx (zipped by python3's zipfile) scanned through the route.
final class DocxScanTests: ComplianceTestCase {
    /// A minimal .docx whose paragraphs are `paragraphs`.
    func makeDocx(_ paragraphs: [String]) throws -> [UInt8] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("compliance-docx-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("word"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("_rels"), withIntermediateDirectories: true)
        let body = paragraphs.map { "<w:p><w:r><w:t xml:space=\"preserve\">\($0)</w:t></w:r></w:p>" }.joined()
        try """
        <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
        <w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>\(body)</w:body></w:document>
        """.write(to: dir.appendingPathComponent("word/document.xml"), atomically: true, encoding: .utf8)
        try #"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/></Types>"#
            .write(to: dir.appendingPathComponent("[Content_Types].xml"), atomically: true, encoding: .utf8)
        try #"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>"#
            .write(to: dir.appendingPathComponent("_rels/.rels"), atomically: true, encoding: .utf8)
        // python3's zipfile writes the archive (python3 is already needed by the benchmarks and DocCompare's tests).
        let zip = Process()
        zip.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        zip.currentDirectoryURL = dir
        zip.arguments = ["python3", "-c", """
            import zipfile
            with zipfile.ZipFile("out.docx", "w", zipfile.ZIP_DEFLATED) as z:
                for name in ["[Content_Types].xml", "_rels/.rels", "word/document.xml"]:
                    z.write(name)
            """]
        try zip.run()
        zip.waitUntilExit()
        guard zip.terminationStatus == 0 else { throw TestFailure("python3 zipfile failed with \(zip.terminationStatus)") }
        return [UInt8](try Data(contentsOf: dir.appendingPathComponent("out.docx")))
    }

    func testDocxIsScanned() throws {
        let docx = try makeDocx(["Employee record", "E-mail: anna.schmidt@example.com", "SSN 078-05-1121"])
        let response = try post("scan", docx, type: "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
        XCTAssertEqual(response.status, 200, response.text)
        let types = (try json(response)["entities"] as? [[String: Any]] ?? []).compactMap { $0["type"] as? String }
        XCTAssertEqual(types, ["EMAIL", "US_SSN"])
    }
}
