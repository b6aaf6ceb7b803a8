import Foundation
import XCTest
@testable import DocDiff

final class MinimalityAndRoundTripTests: XCTestCase {
    let lineMyers = DiffOptions(granularity: .line, algorithm: .myers, semanticCleanup: false, detectMoves: false)

    /// The Myers line script changes exactly as many lines as `diff --minimal` on 200 random pairs.
    func testMyersMatchesGNUDiffMinimal() throws {
        let dir = try TempDir()
        for seed in 0..<200 {
            var rng = SeededRNG(seed: UInt64(seed))
            let a = Fixtures.randomLines(&rng, count: Int.random(in: 0...60, using: &rng))
            let b = Fixtures.edit(a, &rng)
            let ta = Fixtures.join(a, trailingNewline: seed % 5 != 0)
            let tb = Fixtures.join(b, trailingNewline: seed % 7 != 0)
            let pa = try dir.write("a.txt", ta), pb = try dir.write("b.txt", tb)
            let (_, out) = try Shell.run("/usr/bin/diff", ["--minimal", pa, pb])
            let gnu = out.split(separator: "\n", omittingEmptySubsequences: false)
                .filter { $0.hasPrefix("< ") || $0.hasPrefix("> ") || $0 == "<" || $0 == ">" }.count
            let ours = DocDiff.diff(ta, tb, options: lineMyers).changedTokenCount
            XCTAssertEqual(ours, gnu, "seed \(seed)")
        }
    }

    /// Myers is minimal: never worse than histogram, on larger inputs too.
    func testMyersNeverWorseThanHistogram() {
        for seed in 0..<50 {
            var rng = SeededRNG(seed: UInt64(1000 + seed))
            let a = Fixtures.randomLines(&rng, count: 300)
            let b = Fixtures.edit(a, &rng)
            let ta = Fixtures.join(a, trailingNewline: true), tb = Fixtures.join(b, trailingNewline: true)
            var h = lineMyers; h.algorithm = .histogram
            let m = DocDiff.diff(ta, tb, options: lineMyers).changedTokenCount
            let hc = DocDiff.diff(ta, tb, options: h).changedTokenCount
            XCTAssertLessThanOrEqual(m, hc)
        }
    }

    /// GNU patch applies our unified diff to give the new text byte for byte; so does the JSON script.
    func testUnifiedDiffAndJSONRoundTrip() throws {
        let dir = try TempDir()
        var cases: [(String, String)] = [
            ("", ""), ("", "one\n"), ("one\n", ""), ("", "no newline"), ("no newline", ""),
            ("a\nb\nc", "a\nb\nc\n"), ("a\nb\nc\n", "a\nb\nc"), ("x", "y"), ("same\n", "same\n"),
        ]
        for seed in 0..<120 {
            var rng = SeededRNG(seed: UInt64(5000 + seed))
            let a = Fixtures.randomLines(&rng, count: Int.random(in: 0...80, using: &rng))
            let b = Fixtures.edit(a, &rng)
            cases.append((Fixtures.join(a, trailingNewline: seed % 3 != 0), Fixtures.join(b, trailingNewline: seed % 4 != 0)))
        }
        for (n, (ta, tb)) in cases.enumerated() {
            for algorithm in DiffAlgorithm.allCases {
                var opts = lineMyers; opts.algorithm = algorithm; opts.detectMoves = true
                let result = DocDiff.diff(ta, tb, options: opts)
                let patchText = UnifiedDiff.render(result)
                if ta == tb { XCTAssertEqual(patchText, "") }
                let old = try dir.write("old.txt", ta)
                let pf = try dir.write("p.diff", patchText)
                let outPath = dir.url.appendingPathComponent("out.txt").path
                try? FileManager.default.removeItem(atPath: outPath)
                if !patchText.isEmpty {
                    let (status, _) = try Shell.run("/usr/bin/patch", ["-s", "-f", "-o", outPath, old, "-i", pf])
                    XCTAssertEqual(status, 0, "case \(n) \(algorithm): patch failed\n\(patchText)")
                    let got = (try? dir.read("out.txt")) ?? ""
                    XCTAssertEqual(got, tb, "case \(n) \(algorithm)\n\(patchText)")
                }
                // JSON edit script.
                let json = try EditScript(result).jsonData()
                XCTAssertEqual(try EditScript.apply(json: json, to: ta), tb, "case \(n) \(algorithm) JSON")
            }
        }
    }

    /// GNU-style hunk headers and the no-newline marker.
    func testUnifiedFormat() {
        let d = UnifiedDiff.diff("a\nb\nc", "a\nB\nc")
        XCTAssertEqual(d, "--- a\n+++ b\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n\\ No newline at end of file\n")
        XCTAssertEqual(UnifiedDiff.diff("", "x\n"), "--- a\n+++ b\n@@ -0,0 +1 @@\n+x\n")
    }

    /// A script applied to the wrong text is rejected with a typed error.
    func testEditScriptMismatch() throws {
        let s = EditScript(DocDiff.diff("hello\nworld\n", "hello\nthere\n"))
        XCTAssertThrowsError(try s.apply(to: "HELLO\nworld\n")) { e in
            guard case DocDiffError.editScriptMismatch = e else { return XCTFail("\(e)") }
        }
        XCTAssertEqual(s.statistics.inserted, 1)
        XCTAssertEqual(s.statistics.deleted, 1)
        XCTAssertEqual(s.statistics.unchanged, 1)
    }

    /// Ignore options: whitespace/case-only differences are not changes, but exact replay still works.
    func testIgnoreOptions() throws {
        let a = "Hello  World\nsecond line\n", b = "hello world\nsecond   line\n"
        let r = DocDiff.diff(a, b, options: DiffOptions(ignoreWhitespace: true, ignoreCase: true))
        XCTAssertEqual(r.changedTokenCount, 0)
        XCTAssertEqual(try EditScript(r).apply(to: a), b)
        XCTAssertEqual(Redline(r).acceptAll(), b)
        XCTAssertEqual(Redline(r).rejectAll(), a)
        XCTAssertEqual(DocDiff.diff(a, b).changedTokenCount, 4)
    }
}
