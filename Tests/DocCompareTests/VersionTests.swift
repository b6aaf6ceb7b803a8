import Foundation
import PlexusTesting
import XCTest

/// Request helpers for the stored-versions routes.
enum Versions {
    /// A tenant id no other test uses.
    static func freshTenant(_ prefix: String = "t") -> String { "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())" }

    static func path(_ tenant: String, _ document: String, _ rest: String = "versions") -> String {
        "/api/v1/documents/\(tenant)/\(document)/\(rest)"
    }

    /// Stores `text` as the next version with a JSON body.
    @discardableResult
    static func store(_ plexus: TestRuntime, _ tenant: String, _ document: String, text: String,
                      file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        let response = try DocCompareHarness.postJSON(plexus, path(tenant, document), ["text": text])
        XCTAssertEqual(response.status, 201, response.text, file: file, line: line)
        return try DocCompareHarness.json(response)
    }

    static func getJSON(_ plexus: TestRuntime, _ path: String) throws -> (TestResponse, [String: Any]) {
        let response = try plexus.get(path)
        let object = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
        return (response, object)
    }
}

/// Document versions per tenant: store, list, fetch, compare, isolation and validation.
final class VersionTests: DocCompareTestCase {

    func testStoreListAndFetchVersionsInEveryUploadForm() throws {
        let plexus = try plexus()
        let tenant = Versions.freshTenant(), document = "contract-7.main"

        // 1: JSON text.
        let first = try Versions.store(plexus, tenant, document, text: Samples.old)
        XCTAssertEqual(first["tenant"] as? String, tenant)
        XCTAssertEqual(first["document"] as? String, document)
        XCTAssertEqual(first["version"] as? Int, 1)
        XCTAssertEqual(first["bytes"] as? Int, Samples.old.utf8.count)
        XCTAssertNotNil(ISO8601DateFormatter.withFractions.date(from: first["created"] as? String ?? ""), "\(first)")

        // 2: raw text/plain, with a Location that serves the stored text.
        let raw = try plexus.request("POST", Versions.path(tenant, document) + "?filename=v2.txt",
                                     headers: "Content-Type: text/plain; charset=utf-8\r\n", body: Array(Samples.new.utf8))
        XCTAssertEqual(raw.status, 201, raw.text)
        let location = raw.header("Location") ?? ""
        XCTAssertEqual(location, Versions.path(tenant, document, "versions/2"))
        XCTAssertEqual(try DocCompareHarness.json(raw)["version"] as? Int, 2)
        let fetched = try plexus.get(location)
        XCTAssertEqual(fetched.status, 200)
        XCTAssertEqual(fetched.header("Content-Type"), "text/plain; charset=utf-8")
        XCTAssertEqual(fetched.text, Samples.new)

        // 3: a multipart .docx file part; the stored text is the extracted text.
        let docx = try DocCompareHarness.makeDocx(paragraphs: ["First clause.", "Second clause, amended."])
        let form = try DocCompareHarness.postForm(plexus, Versions.path(tenant, document),
                                                  [.file("file", "contract.docx", docx)])
        XCTAssertEqual(form.status, 201, form.text)
        let third = try DocCompareHarness.json(form)
        XCTAssertEqual(third["version"] as? Int, 3)
        let extracted = try plexus.get(Versions.path(tenant, document, "versions/3"))
        XCTAssertTrue(extracted.text.contains("First clause.") && extracted.text.contains("Second clause, amended."), extracted.text)
        XCTAssertFalse(extracted.text.contains("<w:"), extracted.text)
        XCTAssertEqual(third["bytes"] as? Int, extracted.body.count)

        // 4: JSON docx_base64 with a filename.
        let fourth = try DocCompareHarness.postJSON(plexus, Versions.path(tenant, document),
                                                    ["docx_base64": Data(docx).base64EncodedString(), "filename": "again.docx"])
        XCTAssertEqual(fourth.status, 201, fourth.text)

        // The history, oldest first.
        let (listing, history) = try Versions.getJSON(plexus, Versions.path(tenant, document))
        XCTAssertEqual(listing.status, 200, listing.text)
        XCTAssertEqual(history["tenant"] as? String, tenant)
        let versions = history["versions"] as? [[String: Any]] ?? []
        XCTAssertEqual(versions.map { $0["version"] as? Int }, [1, 2, 3, 4])
        XCTAssertEqual(versions.map { $0["format"] as? String }, ["text", "text", "docx", "docx"])
        XCTAssertEqual(versions.map { $0["filename"] as? String }, [nil, "v2.txt", "contract.docx", "again.docx"])
        XCTAssertEqual(versions.map { $0["bytes"] as? Int }, [Samples.old.utf8.count, Samples.new.utf8.count,
                                                               extracted.body.count, extracted.body.count])
        XCTAssertEqual(versions.first?["created"] as? String, first["created"] as? String)
        XCTAssertEqual(try plexus.get(Versions.path(tenant, document, "versions/1")).text, Samples.old)
    }

    func testCompareStoredVersionsAsJSONAndUnifiedDiff() throws {
        let plexus = try plexus()
        let tenant = Versions.freshTenant(), document = "agreement"
        try Versions.store(plexus, tenant, document, text: Samples.old)
        try Versions.store(plexus, tenant, document, text: "an unrelated middle version\n")
        try Versions.store(plexus, tenant, document, text: Samples.new)

        // JSON: the edit script turns version 1 into version 3, with the same statistics as the upload route.
        let response = try plexus.get(Versions.path(tenant, document, "compare?from=1&to=3"))
        XCTAssertEqual(response.status, 200, response.text)
        XCTAssertEqual(response.header("Content-Type"), "application/json")
        let report = try DocCompareHarness.json(response)
        XCTAssertEqual(String(decoding: try DocCompareHarness.applyEditScript(report, to: Array(Samples.old.utf8)), as: UTF8.self), Samples.new)
        let versions = report["versions"] as? [String: Any] ?? [:]
        XCTAssertEqual(versions["tenant"] as? String, tenant)
        XCTAssertEqual(versions["document"] as? String, document)
        XCTAssertEqual(versions["from"] as? Int, 1)
        XCTAssertEqual(versions["to"] as? Int, 3)
        let uploaded = try DocCompareHarness.json(try DocCompareHarness.postJSON(plexus, ["old": ["text": Samples.old], "new": ["text": Samples.new]]))
        XCTAssertEqual(report["statistics"] as? NSDictionary, uploaded["statistics"] as? NSDictionary)
        XCTAssertNil(uploaded["versions"], "the upload route has no stored versions")

        // Options as query parameters.
        let words = try DocCompareHarness.json(try plexus.get(Versions.path(tenant, document,
            "compare?from=1&to=3&granularity=word&algorithm=histogram&ignore_case=true&detect_moves=false")))
        XCTAssertEqual((words["options"] as? [String: Any])?["granularity"] as? String, "word")
        XCTAssertEqual((words["options"] as? [String: Any])?["algorithm"] as? String, "histogram")
        XCTAssertEqual((words["options"] as? [String: Any])?["ignore_case"] as? Bool, true)
        XCTAssertEqual(String(decoding: try DocCompareHarness.applyEditScript(words, to: Array(Samples.old.utf8)), as: UTF8.self), Samples.new)

        // Unified diff, applied with GNU patch, both directions.
        let unified = try plexus.get(Versions.path(tenant, document, "compare?from=1&to=3&format=unified"))
        XCTAssertEqual(unified.status, 200, unified.text)
        XCTAssertEqual(unified.header("Content-Type"), "text/x-diff; charset=utf-8")
        XCTAssertTrue(unified.text.hasPrefix("--- \(document)@v1"), unified.text)
        XCTAssertEqual(String(decoding: try DocCompareHarness.applyWithGNUPatch(unified.body, to: Array(Samples.old.utf8)), as: UTF8.self), Samples.new)
        let backwards = try plexus.get(Versions.path(tenant, document, "compare?from=3&to=1&format=unified"))
        XCTAssertEqual(String(decoding: try DocCompareHarness.applyWithGNUPatch(backwards.body, to: Array(Samples.new.utf8)), as: UTF8.self), Samples.old)

        // The redline too; and a version compared with itself is identical.
        let html = try plexus.get(Versions.path(tenant, document, "compare?from=1&to=3&format=html"))
        XCTAssertEqual(html.status, 200)
        XCTAssertEqual(try DocCompareHarness.resolveRedline(html.text, accept: true), Samples.new)
        let same = try DocCompareHarness.json(try plexus.get(Versions.path(tenant, document, "compare?from=2&to=2")))
        XCTAssertEqual(same["identical"] as? Bool, true)
    }

    func testBadCompareQueriesAreRefusedWithTheField() throws {
        let plexus = try plexus()
        let tenant = Versions.freshTenant(), document = "doc"
        try Versions.store(plexus, tenant, document, text: "one\n")
        try Versions.store(plexus, tenant, document, text: "two\n")
        for (query, status, fragment) in [
            ("from=1&to=2&granularity=paragraph", 400, "granularity"),
            ("from=1&to=2&format=pdf", 400, "format"),
            ("from=1&to=2&ignore_case=maybe", 400, "ignore_case"),
            ("from=1&to=2&colour=blue", 400, "colour"),
            ("to=2", 400, "from"),
            ("from=1", 400, "to"),
            ("from=0&to=2", 400, "from"),
            ("from=1&to=two", 400, "to"),
            ("from=1&to=9", 404, "version 9"),
            ("from=7&to=2", 404, "version 7"),
        ] {
            let response = try plexus.get(Versions.path(tenant, document, "compare?\(query)"))
            DocCompareHarness.assertProblem(response, status: status, [fragment])
        }
        DocCompareHarness.assertProblem(try plexus.get(Versions.path(tenant, document, "compare?from=1&to=9")), status: 404, ["'to'"])
    }

    func testUnknownDocumentsAndVersionsAre404() throws {
        let plexus = try plexus()
        let tenant = Versions.freshTenant()
        DocCompareHarness.assertProblem(try plexus.get(Versions.path(tenant, "never-stored")), status: 404, ["never-stored"])
        try Versions.store(plexus, tenant, "doc", text: "only version\n")
        DocCompareHarness.assertProblem(try plexus.get(Versions.path(tenant, "doc", "versions/2")), status: 404, ["version 2"])
        DocCompareHarness.assertProblem(try plexus.get(Versions.path(tenant, "doc", "versions/0")), status: 400, ["version"])
        DocCompareHarness.assertProblem(try plexus.get(Versions.path(tenant, "doc", "versions/x1")), status: 400, ["version"])
    }

    func testTenantsAreIsolated() throws {
        let plexus = try plexus()
        let alice = Versions.freshTenant("alice"), bob = Versions.freshTenant("bob"), document = "shared-name"
        try Versions.store(plexus, alice, document, text: "alice v1\n")
        try Versions.store(plexus, alice, document, text: "alice v2\n")

        // Nothing of alice's is visible through bob's paths.
        DocCompareHarness.assertProblem(try plexus.get(Versions.path(bob, document)), status: 404, [bob])
        DocCompareHarness.assertProblem(try plexus.get(Versions.path(bob, document, "versions/1")), status: 404, [bob])
        DocCompareHarness.assertProblem(try plexus.get(Versions.path(bob, document, "compare?from=1&to=2")), status: 404, [bob])

        // Bob's document of the same name numbers its own versions, and neither sees the other's text.
        let bobs = try Versions.store(plexus, bob, document, text: "bob v1\n")
        XCTAssertEqual(bobs["version"] as? Int, 1)
        XCTAssertEqual(try plexus.get(Versions.path(bob, document, "versions/1")).text, "bob v1\n")
        XCTAssertEqual(try plexus.get(Versions.path(alice, document, "versions/1")).text, "alice v1\n")
        DocCompareHarness.assertProblem(try plexus.get(Versions.path(bob, document, "versions/2")), status: 404, ["version 2"])
        DocCompareHarness.assertProblem(try plexus.get(Versions.path(bob, document, "compare?from=1&to=2")), status: 404, ["'to'"])
        let (_, history) = try Versions.getJSON(plexus, Versions.path(alice, document))
        XCTAssertEqual((history["versions"] as? [[String: Any]])?.count, 2)
    }

    func testBadIDsAndBadUploadsAreRefused() throws {
        let plexus = try plexus()
        let tenant = Versions.freshTenant()
        let long = String(repeating: "d", count: 65)
        // No API key can belong to a tenant named with a space: the gateway refuses before the plugin.
        DocCompareHarness.assertProblem(try DocCompareHarness.postJSON(plexus, Versions.path("bad%20tenant", "doc"), ["text": "x"]),
                                        status: 403, ["tenant"])
        for (path, field) in [(Versions.path("t%C3%A9", "doc"), "tenant"),
                              (Versions.path(tenant, long), "document"), (Versions.path(tenant, "a%3Ab"), "document"),
                              (Versions.path(tenant, "doc%21"), "document")] {
            DocCompareHarness.assertProblem(try DocCompareHarness.postJSON(plexus, path, ["text": "x"]), status: 400, ["'\(field)'"])
            DocCompareHarness.assertProblem(try plexus.get(path), status: 400, ["'\(field)'"])
        }
        // 64 characters of the allowed alphabet are fine.
        let longest = String(repeating: "a.B_9-", count: 11).prefix(64)
        XCTAssertEqual(try DocCompareHarness.postJSON(plexus, Versions.path(tenant, String(longest)), ["text": "x"]).status, 201)

        let path = Versions.path(tenant, "doc")
        DocCompareHarness.assertProblem(try DocCompareHarness.postJSON(plexus, path, [:]), status: 400, ["text", "docx_base64"])
        DocCompareHarness.assertProblem(try DocCompareHarness.postJSON(plexus, path, ["text": "a", "docx_base64": "UEsDBA=="]), status: 400, ["exactly one"])
        DocCompareHarness.assertProblem(try DocCompareHarness.postJSON(plexus, path, ["txt": "a"]), status: 400, ["'txt'"])
        DocCompareHarness.assertProblem(try DocCompareHarness.postJSON(plexus, path, ["docx_base64": "%%%"]), status: 400, ["docx_base64"])
        DocCompareHarness.assertProblem(try DocCompareHarness.post(plexus, path, contentType: "text/plain", body: [0x61, 0xFF, 0x62]),
                                        status: 400, ["not valid UTF-8", "offset 1"])
        DocCompareHarness.assertProblem(try DocCompareHarness.post(plexus, path, contentType: "image/png", body: [1]), status: 415, ["Content-Type"])
        DocCompareHarness.assertProblem(try DocCompareHarness.postForm(plexus, path, [.field("other", "x")]), status: 400, ["'other'"])
        DocCompareHarness.assertProblem(try DocCompareHarness.postJSON(plexus, path, ["text": String(repeating: "x", count: DocCompareHarness.maxInputBytes + 1)]),
                                        status: 413, ["max_input_bytes"])
        // None of the refused uploads was stored.
        DocCompareHarness.assertProblem(try plexus.get(path), status: 404, ["doc"])
    }

    func testEventsArriveOnTheStreamAndInTheDurableLog() throws {
        let plexus = try plexus()
        let tenant = Versions.freshTenant("ev"), document = "watched"
        let reader = try openStream(plexus, "topic=document.%23")
        usleep(100_000)

        try Versions.store(plexus, tenant, document, text: Samples.old)
        let changed = try next(reader, topic: "document.changed", tenant: tenant)
        XCTAssertEqual(changed.json["source"] as? String, "doccompare")
        XCTAssertEqual(changed.json["tenant"] as? String, tenant)
        let changedPayload = changed.json["payload"] as? [String: Any] ?? [:]
        XCTAssertEqual(changedPayload["tenant"] as? String, tenant)
        XCTAssertEqual(changedPayload["document"] as? String, document)
        XCTAssertEqual(changedPayload["version"] as? Int, 1)
        XCTAssertEqual(changedPayload["bytes"] as? Int, Samples.old.utf8.count)

        try Versions.store(plexus, tenant, document, text: Samples.new)
        XCTAssertEqual((try next(reader, topic: "document.changed", tenant: tenant).json["payload"] as? [String: Any])?["version"] as? Int, 2)

        XCTAssertEqual(try plexus.get(Versions.path(tenant, document, "compare?from=1&to=2&granularity=word&algorithm=histogram")).status, 200)
        let compared = try next(reader, topic: "document.compared", tenant: tenant)
        let summary = compared.json["payload"] as? [String: Any] ?? [:]
        XCTAssertEqual(summary["tenant"] as? String, tenant)
        XCTAssertEqual(summary["document"] as? String, document)
        XCTAssertEqual(summary["from"] as? Int, 1)
        XCTAssertEqual(summary["to"] as? Int, 2)
        XCTAssertEqual(summary["granularity"] as? String, "word")
        XCTAssertEqual(summary["algorithm"] as? String, "histogram")
        XCTAssertEqual(summary["identical"] as? Bool, false)
        XCTAssertNotNil(summary["moves"] as? Int, "\(summary)")
        let statistics = summary["statistics"] as? [String: Any] ?? [:]
        XCTAssertGreaterThan(statistics["inserted"] as? Int ?? 0, 0, "\(summary)")
        XCTAssertGreaterThan(statistics["unchanged"] as? Int ?? 0, 0, "\(summary)")

        // The upload route publishes too, without a tenant; its summary matches its JSON answer.
        let p = Samples.paragraphs
        let moved = ([p[0], p[1], p[2], p[3]].joined(separator: "\n\n") + "\n", [p[0], p[2], p[3], p[1]].joined(separator: "\n\n") + "\n")
        let answer = try DocCompareHarness.json(try DocCompareHarness.postJSON(plexus, ["old": ["text": moved.0], "new": ["text": moved.1]]))
        let anonymous = try next(reader, topic: "document.compared", tenant: "")
        let anonymousSummary = anonymous.json["payload"] as? [String: Any] ?? [:]
        XCTAssertNil(anonymousSummary["document"])
        XCTAssertEqual(anonymousSummary["granularity"] as? String, "line")
        XCTAssertEqual(anonymousSummary["moves"] as? Int, (answer["moves"] as? [Any])?.count)
        XCTAssertGreaterThan(anonymousSummary["moves"] as? Int ?? 0, 0, "\(anonymousSummary)")
        XCTAssertEqual(anonymousSummary["statistics"] as? NSDictionary, answer["statistics"] as? NSDictionary)

        // document.changed is durable: it is in the log.
        let log = try plexus.get("/api/v1/events?topic=document.changed&limit=10000")
        XCTAssertEqual(log.status, 200, log.text)
        let events = (try JSONSerialization.jsonObject(with: Data(log.body)) as? [[String: Any]] ?? []).filter { $0["tenant"] as? String == tenant }
        XCTAssertEqual(events.compactMap { ($0["payload"] as? [String: Any])?["version"] as? Int }, [1, 2])

        // Both topics are in the catalogue, declared by doccompare.
        let catalogue = try JSONSerialization.jsonObject(with: Data(try plexus.get("/api/v1/events/catalogue").body)) as? [[String: Any]] ?? []
        let declared = Set(catalogue.filter { $0["plugin"] as? String == "doccompare" }.compactMap { $0["topic"] as? String })
        XCTAssertEqual(declared, ["document.changed", "document.compared"])
    }

    private func openStream(_ plexus: TestRuntime, _ query: String) throws -> SSEReader {
        let client = try TestClient(port: plexus.port)
        try client.send("GET /api/v1/events/stream?\(query) HTTP/1.1\r\nHost: t\r\n\(plexus.authorized(""))\r\n")
        let head = try client.readHead()
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.header("Content-Type"), "text/event-stream")
        return SSEReader(client: client)
    }

    /// The next frame of `topic` for `tenant`, skipping others (earlier tests share the runtime).
    private func next(_ reader: SSEReader, topic: String, tenant: String) throws -> SSEReader.Frame {
        for _ in 0..<50 {
            let frame = try reader.next()
            if frame.event == topic, frame.json["tenant"] as? String == tenant { return frame }
        }
        throw TestFailure("no \(topic) event for tenant '\(tenant)' in 50 frames")
    }
}

/// Stored versions survive a restart of the runtime on the same data directory.
final class VersionPersistenceTests: XCTestCase {
    func testVersionsPersistAcrossARestart() throws {
        let directory = try DocCompareHarness.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let tenant = "acme", document = "lease"

        let first = try DocCompareHarness.start(workDirectory: directory)
        try Versions.store(first, tenant, document, text: Samples.old)
        try Versions.store(first, tenant, document, text: Samples.new)
        XCTAssertEqual(first.stop(), 0, first.log)

        let second = try DocCompareHarness.start(workDirectory: directory)
        defer { _ = second.stop() }
        let (listing, history) = try Versions.getJSON(second, Versions.path(tenant, document))
        XCTAssertEqual(listing.status, 200, listing.text + "\n" + second.log)
        XCTAssertEqual((history["versions"] as? [[String: Any]])?.map { $0["version"] as? Int }, [1, 2])
        XCTAssertEqual(try second.get(Versions.path(tenant, document, "versions/1")).text, Samples.old)
        XCTAssertEqual(try second.get(Versions.path(tenant, document, "versions/2")).text, Samples.new)
        // Numbering continues, and stored versions still compare.
        XCTAssertEqual(try Versions.store(second, tenant, document, text: "third\n")["version"] as? Int, 3)
        let unified = try second.get(Versions.path(tenant, document, "compare?from=1&to=2&format=unified"))
        XCTAssertEqual(String(decoding: try DocCompareHarness.applyWithGNUPatch(unified.body, to: Array(Samples.old.utf8)), as: UTF8.self), Samples.new)
    }
}

extension ISO8601DateFormatter {
    /// ISO 8601 with fractional seconds.
    static var withFractions: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}
