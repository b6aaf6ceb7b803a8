import Foundation
import PlexusTesting
import XCTest

/// `POST /api/v1/documents/compare` in each output format, checked by replaying the output.
final class CompareFormatsTests: DocCompareTestCase {

    func testJSONEditScriptRebuildsTheNewTextForEveryGranularityAndAlgorithm() throws {
        let plexus = try plexus()
        for (old, new) in Samples.pairs {
            for granularity in ["line", "word", "character"] {
                for algorithm in ["myers", "histogram"] {
                    let response = try DocCompareHarness.postJSON(plexus, [
                        "old": ["text": old], "new": ["text": new], "granularity": granularity, "algorithm": algorithm,
                    ])
                    XCTAssertEqual(response.status, 200, response.text)
                    XCTAssertEqual(response.header("Content-Type"), "application/json")
                    let report = try DocCompareHarness.json(response)
                    let rebuilt = try DocCompareHarness.applyEditScript(report, to: Array(old.utf8))
                    XCTAssertEqual(String(decoding: rebuilt, as: UTF8.self), new, "\(granularity)/\(algorithm)")
                    XCTAssertEqual(report["identical"] as? Bool, old == new)
                    let options = report["options"] as? [String: Any]
                    XCTAssertEqual(options?["granularity"] as? String, granularity)
                    XCTAssertEqual(options?["algorithm"] as? String, algorithm)
                }
            }
        }
    }

    func testDefaultsStatisticsAndIgnoreOptions() throws {
        let plexus = try plexus()
        let report = try DocCompareHarness.json(try DocCompareHarness.postJSON(plexus, ["old": ["text": Samples.old], "new": ["text": Samples.new]]))
        let options = report["options"] as? [String: Any] ?? [:]
        XCTAssertEqual(options["granularity"] as? String, "line")
        XCTAssertEqual(options["algorithm"] as? String, "myers")
        XCTAssertEqual(report["mode"] as? String, "plain")
        let statistics = report["statistics"] as? [String: Any] ?? [:]
        XCTAssertEqual(statistics["deleted"] as? Int, 3)
        XCTAssertEqual(statistics["inserted"] as? Int, 4)
        XCTAssertEqual(statistics["unchanged"] as? Int, 3)
        XCTAssertNotNil(report["moves"] as? [Any])

        // Case and whitespace differences are equal when ignored, and the script still rebuilds the new text exactly.
        let old = "Hello World\nsecond  line\n", new = "hello world\nsecond line\n"
        let ignoring = try DocCompareHarness.json(try DocCompareHarness.postJSON(plexus, [
            "old": ["text": old], "new": ["text": new], "ignore_case": true, "ignore_whitespace": true,
        ]))
        XCTAssertEqual((ignoring["statistics"] as? [String: Any])?["unchanged"] as? Int, 2)
        XCTAssertEqual((ignoring["statistics"] as? [String: Any])?["inserted"] as? Int, 0)
        XCTAssertEqual(String(decoding: try DocCompareHarness.applyEditScript(ignoring, to: Array(old.utf8)), as: UTF8.self), new)
    }

    func testUnifiedDiffAppliesWithGNUPatch() throws {
        let plexus = try plexus()
        for (old, new) in Samples.pairs {
            for algorithm in ["myers", "histogram"] {
                let response = try DocCompareHarness.postJSON(plexus, [
                    "old": ["text": old], "new": ["text": new], "format": "unified", "algorithm": algorithm,
                ])
                XCTAssertEqual(response.status, 200, response.text)
                XCTAssertEqual(response.header("Content-Type"), "text/x-diff; charset=utf-8")
                if old == new { XCTAssertTrue(response.body.isEmpty); continue }
                XCTAssertTrue(response.text.hasPrefix("--- old\n+++ new\n@@ "), response.text)
                let patched = try DocCompareHarness.applyWithGNUPatch(response.body, to: Array(old.utf8))
                XCTAssertEqual(patched, Array(new.utf8), "patched text differs (\(algorithm)):\n\(response.text)")
            }
        }
    }

    func testHTMLRedlineAcceptAllGivesNewAndRejectAllGivesOld() throws {
        let plexus = try plexus()
        for (old, new) in Samples.pairs {
            for (path, extra) in [("/api/v1/documents/compare", ["format": "html"]), ("/api/v1/documents/redline", [:]),
                                  ("/api/v1/documents/redline", ["format": "json", "granularity": "word"])] {
                var body: [String: Any] = ["old": ["text": old], "new": ["text": new]]
                body.merge(extra) { $1 }
                let response = try DocCompareHarness.postJSON(plexus, path, body)
                XCTAssertEqual(response.status, 200, response.text)
                XCTAssertEqual(response.header("Content-Type"), "text/html; charset=utf-8")
                XCTAssertTrue(response.text.hasPrefix("<!DOCTYPE html>"))
                XCTAssertEqual(try DocCompareHarness.resolveRedline(response.text, accept: true), new, path)
                XCTAssertEqual(try DocCompareHarness.resolveRedline(response.text, accept: false), old, path)
            }
        }
        // Markup in documents is escaped, never interpreted.
        let page = try DocCompareHarness.postJSON(plexus, "/api/v1/documents/redline", ["old": ["text": "<b>x</b>\n"], "new": ["text": "<script>alert(1)</script>\n"]]).text
        XCTAssertFalse(page.contains("<script"))
        XCTAssertFalse(page.contains("<b>"))
        XCTAssertTrue(page.contains("&lt;"))
    }
}
