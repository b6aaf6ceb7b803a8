import Foundation
import PlexusTOML
import XCTest

/// TOML 1.0 as the runtime config, native manifests and workflow definitions use it, and the
/// inputs that crashed or leaked TOMLKit (Fuzz/regressions/{runtime-config,native-manifest,workflow-def}).
final class TOMLParserTests: XCTestCase {
    func parse(_ text: String) throws -> TOMLTable { try TOMLTable(string: text) }

    func error(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> TOMLError? {
        do {
            _ = try TOMLTable(string: text)
            XCTFail("parsed: \(text)", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    func testScalarsTablesAndArrays() throws {
        let table = try parse("""
        # a comment
        title = "Plexus" # trailing
        port = 8_080
        ratio = 0.5
        big = 9223372036854775807
        small = -9223372036854775808
        hex = 0xDEAD_beef
        oct = 0o755
        bin = 0b1101
        exp = -1e-3
        inf = -inf
        on = true
        off = false
        list = [1, 2,
          3, # comment inside
        ]
        mixed = ["a", 1, [true], {x = 1}]
        when = 1979-05-27T07:32:00Z
        local = 1979-05-27 07:32:00.999
        day = 1979-05-27
        time = 07:32:00

        [server]
        listen = "127.0.0.1:8080"
        "quoted key" = 'literal \\n'
        limits.body = 1024

        [[plugins]]
        name = "hello"
        [[plugins]]
        name = "notes"
        [plugins.config]
        greeting = { text = "hi", count = 2 }
        """)
        XCTAssertEqual(table.keys.first, "title")
        XCTAssertEqual(table["title"]?.string, "Plexus")
        XCTAssertEqual(table["port"]?.int, 8080)
        XCTAssertEqual(table["ratio"]?.double, 0.5)
        XCTAssertNil(table["port"]?.double)
        XCTAssertEqual(table["big"]?.int, .max)
        XCTAssertEqual(table["small"]?.int, .min)
        XCTAssertEqual(table["hex"]?.int, 0xDEAD_BEEF)
        XCTAssertEqual(table["oct"]?.int, 0o755)
        XCTAssertEqual(table["bin"]?.int, 13)
        XCTAssertEqual(table["exp"]?.double, -0.001)
        XCTAssertEqual(table["inf"]?.double, -.infinity)
        XCTAssertEqual(table["on"]?.bool, true)
        XCTAssertEqual(table["off"]?.bool, false)
        XCTAssertEqual(table["list"]?.array?.compactMap(\.int), [1, 2, 3])
        XCTAssertEqual(table["mixed"]?.array?.count, 4)
        XCTAssertEqual(table["mixed"]?.array?[3].table?["x"]?.int, 1)
        XCTAssertEqual(table["when"]?.datetime, "1979-05-27T07:32:00Z")
        XCTAssertEqual(table["local"]?.datetime, "1979-05-27 07:32:00.999")
        XCTAssertEqual(table["day"]?.datetime, "1979-05-27")
        XCTAssertEqual(table["time"]?.datetime, "07:32:00")
        let server = try XCTUnwrap(table["server"]?.table)
        XCTAssertEqual(server["listen"]?.string, "127.0.0.1:8080")
        XCTAssertEqual(server["quoted key"]?.string, "literal \\n")
        XCTAssertEqual(server["limits"]?.table?["body"]?.int, 1024)
        let plugins = try XCTUnwrap(table["plugins"]?.array)
        XCTAssertEqual(plugins.compactMap { $0.table?["name"]?.string }, ["hello", "notes"])
        XCTAssertEqual(plugins[1].table?["config"]?.table?["greeting"]?.table?["count"]?.int, 2)
    }

    func testStrings() throws {
        let table = try parse(#"""
        basic = "tab\tquote\"back\\slash\u00E9\U0001F600"
        multi = """
        one
        two \
            three"""
        quotes = """a""b"""""
        lit = '''
        C:\path\'''
        crlf = "x"\#r\#n
        end = 1
        """#)
        XCTAssertEqual(table["basic"]?.string, "tab\tquote\"back\\slashé😀")
        XCTAssertEqual(table["multi"]?.string, "one\ntwo three")
        XCTAssertEqual(table["quotes"]?.string, "a\"\"b\"\"")
        XCTAssertEqual(table["lit"]?.string, "C:\\path\\")
        XCTAssertEqual(table["crlf"]?.string, "x")
    }

    func testErrorsNameTheLineAndColumn() {
        XCTAssertEqual(error("a = 1\nb = \n")?.line, 2)
        XCTAssertEqual(error("a = 1\na = 2")?.message, "the key 'a' is defined twice")
        XCTAssertEqual(error("[t]\n[t]")?.message, "table 't' is defined twice")
        XCTAssertEqual(error("a = 1\n[a.b]")?.message, "'a' is already a value, it cannot be a table")
        XCTAssertEqual(error("a = [1]\n[[a]]")?.message, "'a' is already a value, it cannot be a table")
        XCTAssertEqual(error("a = {x = 1}\na.y = 2")?.line, 2)
        XCTAssertEqual(error("[a]\nb.c = 1\n[a.b]")?.message, "table 'a.b' is defined twice")
        let bad = error("key = bare words")
        XCTAssertEqual(bad?.line, 1)
        XCTAssertEqual(bad?.column, 7)
        XCTAssertNotNil(error("n = 9223372036854775808"))
        XCTAssertNotNil(error("n = 012"))
        XCTAssertNotNil(error("n = 1__0"))
        XCTAssertNotNil(error("n = 1."))
        XCTAssertNotNil(error("n = .5"))
        XCTAssertNotNil(error("d = 2023-02-29"))
        XCTAssertNotNil(error("d = 24:00:00"))
        XCTAssertNotNil(error("s = \"unterminated"))
        XCTAssertNotNil(error("s = \"bad \\q escape\""))
        XCTAssertNotNil(error("s = \"\\uD800\""))
        XCTAssertNotNil(error("t = {a = 1,}"))
        XCTAssertNotNil(error("t = {a = 1\n}"))
        XCTAssertNotNil(error("a = 1 b = 2"))
        XCTAssertNotNil(error("# control \u{01} in a comment"))
    }

    /// The inputs the fuzz harnesses found to abort toml++ (an assertion in parse_key) inside
    /// TOMLKit, minimised: now syntax errors naming the line.
    func testTheInputsThatAbortedTOMLKitAreSyntaxErrors() throws {
        func regression(_ path: String) throws -> [UInt8] {
            let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("../../Fuzz/regressions/\(path)").standardized
            return Array(try Data(contentsOf: url))
        }
        let manifest = try regression("native-manifest/toml-assert-table-header")
        XCTAssertEqual(String(decoding: manifest, as: UTF8.self), "[[[[functions]\nsymbol = 1")
        XCTAssertEqual(error(String(decoding: manifest, as: UTF8.self))?.line, 1)
        let config = try regression("runtime-config/crash-toml-assert-bare-key")
        XCTAssertEqual(error(String(decoding: config, as: UTF8.self))?.line, 1)
        // The workflow harness drops its first byte (odd: TOML).
        let workflow = try regression("workflow-def/crash-toml-assert-table-key")
        XCTAssertNotNil(error(String(decoding: workflow.dropFirst(), as: UTF8.self)))
    }

    func testNestingIsBounded() throws {
        XCTAssertNoThrow(try parse("a = " + String(repeating: "[", count: 100) + String(repeating: "]", count: 100)))
        XCTAssertEqual(error("a = " + String(repeating: "[", count: 200) + String(repeating: "]", count: 200))?.message,
                       "arrays and inline tables nest deeper than 128")
        XCTAssertNotNil(error("a = " + String(repeating: "{b = ", count: 200) + "1" + String(repeating: "}", count: 200)))
        XCTAssertNotNil(error("[" + Array(repeating: "a", count: 200).joined(separator: ".") + "]"))
        XCTAssertNotNil(error(Array(repeating: "a", count: 200).joined(separator: ".") + " = 1"))
        // Dotted keys inside inline tables count too: `a = {b.c = {d.e = …}}` nests two tables per
        // brace, so 100 braces are 200 levels, and a header's depth adds to what sits below it.
        let dotted = "a = " + String(repeating: "{b.c = ", count: 100) + "1" + String(repeating: "}", count: 100)
        XCTAssertNotNil(error(dotted))
        XCTAssertNoThrow(try parse("a = " + String(repeating: "{b.c = ", count: 40) + "1" + String(repeating: "}", count: 40)))
        let header = "[" + Array(repeating: "h", count: 100).joined(separator: ".") + "]\nx = " + String(repeating: "{y = ", count: 40) + "1" + String(repeating: "}", count: 40)
        XCTAssertNotNil(error(header))
    }
}
