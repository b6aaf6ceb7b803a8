import Foundation
import PlexusTesting
import XCTest

/// Build products, a running plexus with only the doccompare plugin, and request helpers.
enum DocCompareHarness {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// `$PLEXUS_BIN_DIR`, else this worktree's `.build/debug`.
    static let binDirectory = URL(fileURLWithPath: ProcessInfo.processInfo.environment["PLEXUS_BIN_DIR"]
        ?? root.appendingPathComponent(".build/debug").path)

    /// The per-document limit the shared runtime is configured with.
    static let maxInputBytes = 20_000

    /// Starts plexus over `libPlexusDocCompare.so` with `plugins.d/doccompare.toml` = `config`;
    /// `workDirectory` reuses (and keeps) a data directory, for restarts on the same data.
    static func start(config: String = "max_input_bytes = \(maxInputBytes)\n", workDirectory: URL? = nil, extra: String = "") throws -> TestRuntime {
        let binary = binDirectory.appendingPathComponent("plexus")
        let plugin = binDirectory.appendingPathComponent("libPlexusDocCompare.so")
        for file in [binary, plugin] where !FileManager.default.fileExists(atPath: file.path) {
            throw TestFailure("no \(file.path): run `swift build` first (or set PLEXUS_BIN_DIR)")
        }
        let runtime = try TestRuntime(binary: binary, plugins: [plugin], pluginConfigs: ["doccompare": config], extra: extra,
                                      workDirectory: workDirectory)
        useTenantKeys(runtime)
        return runtime
    }

    /// Requests to a tenant's document routes carry an API key of that tenant (created on first
    /// use), as the gateway lets only a tenant's own callers through; tenant names the runtime
    /// would refuse as a key's tenant fall back to the admin key (and get 403).
    static func useTenantKeys(_ runtime: TestRuntime) {
        let keys = TenantKeys()
        runtime.credentialForPath = { [unowned runtime] path in
            let prefix = "/api/v1/documents/"
            guard path.hasPrefix(prefix) else { return nil }
            let tenant = String(path.dropFirst(prefix.count).prefix { $0 != "/" && $0 != "?" })
            guard tenant != "compare", tenant != "redline", !tenant.isEmpty else { return nil }
            if let key = keys.byTenant[tenant] { return key }
            let key = try? runtime.createAPIKey(name: "tenant-\(tenant)-\(UUID().uuidString.prefix(8))", tenant: tenant.removingPercentEncoding ?? tenant)
            keys.byTenant[tenant] = key
            return key
        }
    }

    /// POSTs a JSON object.
    static func postJSON(_ runtime: TestRuntime, _ object: [String: Any]) throws -> TestResponse {
        try postJSON(runtime, compare, object)
    }

    /// The compare route.
    static let compare = "/api/v1/documents/compare"

    /// POSTs a JSON object to `path`.
    static func postJSON(_ runtime: TestRuntime, _ path: String, _ object: [String: Any]) throws -> TestResponse {
        let body = try JSONSerialization.data(withJSONObject: object)
        return try runtime.request("POST", path, headers: "Content-Type: application/json\r\n", body: [UInt8](body))
    }

    /// POSTs raw bytes with a content type.
    static func post(_ runtime: TestRuntime, contentType: String, body: [UInt8]) throws -> TestResponse {
        try post(runtime, compare, contentType: contentType, body: body)
    }

    /// POSTs raw bytes with a content type to `path`.
    static func post(_ runtime: TestRuntime, _ path: String, contentType: String, body: [UInt8]) throws -> TestResponse {
        try runtime.request("POST", path, headers: "Content-Type: \(contentType)\r\n", body: body)
    }

    /// One part of a form to upload.
    struct FormPart {
        var name: String
        var filename: String?
        var contentType: String?
        var data: [UInt8]
        static func field(_ name: String, _ value: String) -> FormPart { FormPart(name: name, data: Array(value.utf8)) }
        static func file(_ name: String, _ filename: String, _ data: [UInt8], type: String = "application/octet-stream") -> FormPart {
            FormPart(name: name, filename: filename, contentType: type, data: data)
        }
    }

    /// Encodes a `multipart/form-data` body (RFC 7578) with `boundary`.
    static func multipart(_ parts: [FormPart], boundary: String, preamble: String = "", epilogue: String = "") -> [UInt8] {
        var body = Array(preamble.utf8)
        for part in parts {
            body += Array("--\(boundary)\r\n".utf8)
            var disposition = "Content-Disposition: form-data; name=\"\(part.name)\""
            if let filename = part.filename { disposition += "; filename=\"\(filename)\"" }
            body += Array("\(disposition)\r\n".utf8)
            if let type = part.contentType { body += Array("Content-Type: \(type)\r\n".utf8) }
            body += Array("\r\n".utf8) + part.data + Array("\r\n".utf8)
        }
        body += Array("--\(boundary)--\r\n\(epilogue)".utf8)
        return body
    }

    /// POSTs a multipart form.
    static func postForm(_ runtime: TestRuntime, _ parts: [FormPart]) throws -> TestResponse {
        try postForm(runtime, compare, parts)
    }

    /// POSTs a multipart form to `path`.
    static func postForm(_ runtime: TestRuntime, _ path: String, _ parts: [FormPart],
                         boundary: String = "----DocCompareBoundary7MA4YWxkTrZu0gW") throws -> TestResponse {
        try post(runtime, path, contentType: "multipart/form-data; boundary=\(boundary)", body: multipart(parts, boundary: boundary))
    }

    /// The response body as a JSON object.
    static func json(_ response: TestResponse, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] else {
            throw TestFailure("not a JSON object: \(response.text.prefix(500))")
        }
        return object
    }

    /// Asserts an RFC 9457 problem with `status` whose detail contains every one of `fragments`.
    static func assertProblem(_ response: TestResponse, status: Int, _ fragments: [String],
                              file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(response.status, status, response.text, file: file, line: line)
        XCTAssertEqual(response.header("Content-Type"), "application/problem+json", file: file, line: line)
        let object = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]
        let detail = object?["detail"] as? String ?? ""
        XCTAssertEqual(object?["status"] as? Int, status, file: file, line: line)
        for fragment in fragments {
            XCTAssertTrue(detail.contains(fragment), "detail '\(detail)' lacks '\(fragment)'", file: file, line: line)
        }
    }

    /// Applies a JSON edit script (`edit_script.operations`) to `old`, checking deleted text as it goes.
    static func applyEditScript(_ report: [String: Any], to old: [UInt8]) throws -> [UInt8] {
        guard let script = report["edit_script"] as? [String: Any], let operations = script["operations"] as? [[String: Any]] else {
            throw TestFailure("no edit_script.operations in \(report.keys.sorted())")
        }
        var out: [UInt8] = [], cursor = 0
        for (index, op) in operations.enumerated() {
            let kind = op["kind"] as? String ?? "?"
            let offset = op["old_offset"] as? Int ?? -1, length = op["old_length"] as? Int ?? -1
            switch kind {
            case "equal", "delete":
                guard offset == cursor, length >= 0, offset + length <= old.count else {
                    throw TestFailure("operation \(index) (\(kind)) at \(offset)+\(length), cursor \(cursor)")
                }
                if kind == "equal" { out += old[offset..<(offset + length)] }
                else if let text = op["text"] as? String, Array(text.utf8) != Array(old[offset..<(offset + length)]) {
                    throw TestFailure("operation \(index) deletes '\(text)', old text has something else")
                }
                cursor += length
            case "insert":
                out += Array((op["text"] as? String ?? "").utf8)
            default:
                throw TestFailure("operation \(index) has unknown kind \(kind)")
            }
        }
        guard cursor == old.count else { throw TestFailure("script covers \(cursor) of \(old.count) bytes") }
        return out
    }

    /// Resolves a redline page: `accept` keeps `data-change="ins"` and drops `"del"`, rejecting the reverse;
    /// `data-annotation` elements (labels, move arrows) are never text.
    static func resolveRedline(_ html: String, accept: Bool) throws -> String {
        guard let begin = html.range(of: "<!--docdiff:begin-->"), let end = html.range(of: "<!--docdiff:end-->") else {
            throw TestFailure("redline markers missing in page")
        }
        let content = html[begin.upperBound..<end.lowerBound]
        var out = "", stack: [Bool] = [], dropping = 0
        var index = content.startIndex
        while index < content.endIndex {
            if content[index] == "<" {
                guard let close = content[index...].firstIndex(of: ">") else { throw TestFailure("unclosed tag") }
                let tag = content[content.index(after: index)..<close]
                index = content.index(after: close)
                if tag.hasPrefix("/") { if stack.popLast() == true { dropping -= 1 }; continue }
                let drops = tag.contains("data-annotation") || tag.contains(accept ? "data-change=\"del\"" : "data-change=\"ins\"")
                stack.append(drops)
                if drops { dropping += 1 }
            } else {
                let next = content[index...].firstIndex(of: "<") ?? content.endIndex
                if dropping == 0 { out += unescape(String(content[index..<next])) }
                index = next
            }
        }
        return out
    }

    static func unescape(_ text: String) -> String {
        text.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
    }

    /// Runs a program, returning its exit status and stdout.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], stdin: Data? = nil) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        let input = Pipe()
        if stdin != nil { process.standardInput = input }
        try process.run()
        if let stdin { input.fileHandleForWriting.write(stdin); try input.fileHandleForWriting.close() }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// A fresh scratch directory.
    static func scratchDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("doccompare-test-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Applies a unified diff to `old` with GNU patch and returns the patched bytes.
    static func applyWithGNUPatch(_ diff: [UInt8], to old: [UInt8]) throws -> [UInt8] {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/patch") else {
            throw TestFailure("GNU patch is not installed (apt-get install -y patch)")
        }
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let oldFile = dir.appendingPathComponent("old.txt"), patchFile = dir.appendingPathComponent("change.diff")
        let outFile = dir.appendingPathComponent("out.txt")
        try Data(old).write(to: oldFile)
        try Data(diff).write(to: patchFile)
        let result = try run("/usr/bin/patch", ["--batch", "--silent", "-o", outFile.path, oldFile.path, patchFile.path])
        guard result.status == 0 else { throw TestFailure("patch failed (\(result.status)): \(result.output)") }
        return [UInt8](try Data(contentsOf: outFile))
    }

    /// Builds a real .docx (zip with content types, relationships and word/document.xml) with python3's zipfile.
    /// `documentXML` overrides the generated document part; `omitDocument` leaves it out.
    static func makeDocx(paragraphs: [String], documentXML: String? = nil, omitDocument: Bool = false) throws -> [UInt8] {
        func escape(_ text: String) -> String {
            text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        }
        let body = paragraphs.map { "<w:p><w:r><w:t xml:space=\"preserve\">\(escape($0))</w:t></w:r></w:p>" }.joined()
        let xml = documentXML ?? """
        <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
        <w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>\(body)</w:body></w:document>
        """
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let xmlFile = dir.appendingPathComponent("document.xml"), out = dir.appendingPathComponent("out.docx")
        try xml.write(to: xmlFile, atomically: true, encoding: .utf8)
        let script = """
        import sys, zipfile
        xml_path, out_path, omit = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
        ct = '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
        rels = '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>'
        with zipfile.ZipFile(out_path, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("[Content_Types].xml", ct)
            z.writestr("_rels/.rels", rels)
            if not omit:
                z.write(xml_path, "word/document.xml")
        """
        let result = try run("/usr/bin/env", ["python3", "-c", script, xmlFile.path, out.path, omitDocument ? "1" : "0"])
        guard result.status == 0 else { throw TestFailure("python3 zipfile failed: \(result.output)") }
        return [UInt8](try Data(contentsOf: out))
    }
}

/// API keys per tenant, created on demand.
private final class TenantKeys {
    var byTenant: [String: String] = [:]
}
