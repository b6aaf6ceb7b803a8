import Foundation
import PlexusTOML
import XCTest

/// PlexusTOML against Python's `tomllib` (the standard library's TOML 1.0 reader) on the fuzz seed
/// corpora of the three TOML harnesses and on hand-picked documents: both accept or both refuse,
/// and accepted documents give the same values (dates compared as dates, by type only).
final class TOMLAgainstPythonTests: XCTestCase {
    static let samples = [
        "a = 1\nb.c = 'x'\n[d]\ne = [1, 2.5, true, \"s\"]\n[[f]]\ng = {h = 1}\n[[f]]\n",
        "[fruit]\napple.color = 'red'\n[fruit.apple.texture]\nsmooth = true\n",
        "[a.b.c]\n[a]\nx = 1\n",
        "x = 0x_1\n", "x = 1_000\n", "x = +0.0\n", "x = -0e0\n", "x = 1e+5\n", "x = 00\n", "x = 1979-05-27T00:32:00.999999-07:00\n",
        "x = \"\"\"\n\\\n  a\"\"\"\n", "x = '''a''''\n", "x = \"\"\"a\"\"\"\"\"\"\n", "\"\" = 1\n", "'a.b' = 1\n", "a . b = 1\n",
        "[ a ]\n", "[[ a ]]\n[ a ]\n", "a = [\n# c\n]\n", "a = {}\n", "a = { }\n", "a = {b = 1, b = 2}\n", "x = inf\ny = -nan\n",
        "x = 1\r\n", "x = 1\r", "x = \"\\u0000\"\n", "x = 1 # \u{7F}\n", "x = 07:32\n", "x = 1979-05-27T07:32\n", "x = 2000-02-29\n",
    ]

    func testAgreesWithTomllib() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Fuzz").standardized
        var documents: [(String, [UInt8])] = Self.samples.enumerated().map { ("sample \($0.offset)", Array($0.element.utf8)) }
        for harness in ["runtime-config", "native-manifest", "workflow-def"] {
            for directory in ["corpus", "regressions"] {
                let folder = root.appendingPathComponent("\(directory)/\(harness)")
                for name in (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [] {
                    var bytes = Array(try Data(contentsOf: folder.appendingPathComponent(name)))
                    if harness == "workflow-def" {
                        // The harness's first byte picks JSON (even) or TOML (odd).
                        guard let mode = bytes.first, mode & 1 == 1 else { continue }
                        bytes.removeFirst()
                    }
                    documents.append(("\(harness)/\(name)", bytes))
                }
            }
        }
        XCTAssertGreaterThan(documents.count, 40)
        let python = try Self.tomllib(documents.map { String(decoding: $0.1, as: UTF8.self) })
        XCTAssertEqual(python.count, documents.count)
        // Most are real documents, so values are compared, not only refusals.
        XCTAssertGreaterThan(python.filter { !($0 is String) }.count, documents.count / 2)
        var disagreements: [String] = []
        for ((name, bytes), expected) in zip(documents, python) {
            let ours: Any
            do { ours = Self.canonical(.table(try TOMLTable(string: String(decoding: bytes, as: UTF8.self)))) } catch { ours = "error" }
            let theirs = expected
            if !Self.same(ours, theirs) {
                disagreements.append("\(name): PlexusTOML \(ours), tomllib \(theirs) for \(String(decoding: bytes.prefix(80), as: UTF8.self).debugDescription)")
            }
        }
        XCTAssertEqual(disagreements, [])
    }

    /// Values as JSON would carry them, dates as ["datetime"], floats as ["float", number or "nan", "inf", "-inf"].
    static func canonical(_ value: TOMLValue) -> Any {
        switch value {
        case .string(let s): return ["string", s]
        case .integer(let i): return ["integer", String(i)]
        case .float(let d):
            if d.isNaN { return ["float", "nan"] }
            if d.isInfinite { return ["float", d > 0 ? "inf" : "-inf"] }
            return ["float", d] as [Any]
        case .bool(let b): return ["bool", String(b)]
        case .datetime: return ["datetime"]
        case .array(let a): return a.map(canonical)
        case .table(let t): return Dictionary(uniqueKeysWithValues: t.keys.map { ($0, canonical(t[$0]!)) })
        }
    }

    static func same(_ a: Any, _ b: Any) -> Bool {
        (try? JSONSerialization.data(withJSONObject: ["v": a], options: .sortedKeys)) == (try? JSONSerialization.data(withJSONObject: ["v": b], options: .sortedKeys))
    }

    /// Runs tomllib over each document: its canonical value, or "error".
    static func tomllib(_ documents: [String]) throws -> [Any] {
        let script = """
        import json, math, sys, tomllib, datetime
        def canon(v):
            if isinstance(v, bool): return ["bool", "true" if v else "false"]
            if isinstance(v, int): return ["integer", str(v)]
            if isinstance(v, float): return ["float", "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else v]
            if isinstance(v, str): return ["string", v]
            if isinstance(v, (datetime.datetime, datetime.date, datetime.time)): return ["datetime"]
            if isinstance(v, list): return [canon(x) for x in v]
            return {k: canon(x) for k, x in v.items()}
        out = []
        for text in json.load(sys.stdin):
            try: out.append(canon(tomllib.loads(text)))
            except Exception: out.append("error")
        json.dump(out, sys.stdout)
        """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(try JSONSerialization.data(withJSONObject: documents))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [Any])
    }
}
