import Foundation
@testable import PlexusRuntime
import XCTest

/// Bad native manifests: each is refused before any call with one line naming the file, the
/// function and the fix.
final class NativeManifestTests: XCTestCase {
    private func manifest(_ functions: String, structs: String = "", library: String? = nil) throws -> String {
        """
        name = "fixture"
        version = "1.0.0"
        library = "\(try library ?? NativeTestSupport.fixtureLibrary())"
        \(structs)
        \(functions)
        """
    }

    private func assertDiagnosis(_ text: String, _ expected: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        guard let diagnosis = try NativeTestSupport.diagnosis(text) else { return XCTFail("loaded", file: file, line: line) }
        XCTAssertFalse(diagnosis.contains("\n"), diagnosis, file: file, line: line)
        XCTAssertTrue(diagnosis.hasPrefix("fixture.native.toml"), diagnosis, file: file, line: line)
        XCTAssertTrue(diagnosis.contains("; fix: "), diagnosis, file: file, line: line)
        for part in expected { XCTAssertTrue(diagnosis.contains(part), "'\(part)' not in: \(diagnosis)", file: file, line: line) }
    }

    func testUnknownSymbol() throws {
        try assertDiagnosis(try manifest("""
            [[functions]]
            symbol = "fixture_nope"
            returns = "int32"
            route = "GET /api/v1/fixture/nope"
            """), ["function 'fixture_nope': symbol 'fixture_nope' is not exported by the library", "nm -D"])
    }

    func testUnknownType() throws {
        try assertDiagnosis(try manifest("""
            [[functions]]
            symbol = "fixture_u8_not"
            returns = "uint8"
            params = [{name = "value", type = "int128"}]
            route = "POST /api/v1/fixture/not"
            """), ["function 'fixture_u8_not': parameter 'value' has unknown type 'int128'", "use one of int8..int64"])
        try assertDiagnosis(try manifest("""
            [[functions]]
            symbol = "fixture_point_norm"
            returns = "double"
            params = [{name = "p", type = "struct nowhere"}]
            route = "POST /api/v1/fixture/norm"
            """), ["parameter 'p' has unknown type 'struct nowhere'"])
    }

    func testBytesWithoutALength() throws {
        try assertDiagnosis(try manifest("""
            [[functions]]
            symbol = "fixture_reverse"
            returns = "int64"
            params = [{name = "input", type = "bytes"}, {name = "length", type = "size_t"},
                      {name = "output", type = "out_bytes", capacity = 4}, {name = "capacity", type = "size_t", length_of = "output"}]
            route = "POST /api/v1/fixture/reverse"
            """), ["function 'fixture_reverse': bytes parameter 'input' has no length", "length_of = \"input\""])
    }

    func testMissingLibrary() throws {
        try assertDiagnosis(try manifest("""
            [[functions]]
            symbol = "f"
            route = "GET /api/v1/fixture/f"
            """, library: "/nonexistent/libnope.so.3"), ["library '/nonexistent/libnope.so.3' cannot be loaded", "fix: install the library or set library to its path"])
    }

    func testStructLayoutThatDisagreesWithTheLibrarysSizeof() throws {
        try assertDiagnosis(try manifest("""
            [[functions]]
            symbol = "fixture_wide_sum"
            returns = "int64"
            params = [{name = "w", type = "struct wide"}]
            route = "POST /api/v1/fixture/wide"
            """, structs: """
            [[structs]]
            name = "wide"
            sizeof_symbol = "fixture_wide_size"
            fields = [{name = "a", type = "int64"}, {name = "b", type = "int64"}, {name = "c", type = "int8"}, {name = "d", type = "double"}]
            """), ["struct 'wide': the manifest's fields make 32 bytes but the library's fixture_wide_size says 40", "list every field"])
    }

    func testOtherMistakes() throws {
        let cases: [(String, [String])] = [
            ("[[functions]]\nsymbol = \"fixture_greet\"\nreturns = \"string\"\nparams = [{name = \"name\", type = \"string\"}]\nroute = \"POST /a/b\"",
             ["returns a string but says neither who frees it nor that it is static"]),
            ("[[functions]]\nsymbol = \"fixture_u8_not\"\nreturns = \"uint8\"\nparams = [{name = \"value\", type = \"uint8\", lenght_of = \"x\"}]\nroute = \"POST /a/b\"",
             ["function 'fixture_u8_not': unknown key 'lenght_of' in functions[0].params[0]", "use one of capacity"]),
            ("[[functions]]\nsymbol = \"fixture_u8_not\"\nreturns = \"uint8\"\nparams = [{name = \"value\", type = \"uint8\"}]",
             ["has neither a route nor a service"]),
            ("[[functions]]\nsymbol = \"fixture_u8_not\"\nreturns = \"bytes\"\nroute = \"POST /a/b\"", ["cannot return 'bytes'"]),
            ("[[functions]]\nsymbol = \"fixture_greet\"\nreturns = \"string\"\nfree = \"fixture_nofree\"\nparams = [{name = \"name\", type = \"string\"}]\nroute = \"POST /a/b\"",
             ["free function 'fixture_nofree' is not exported"]),
            ("[[functions]]\nsymbol = \"fixture_u8_not\"\nreturns = \"uint8\"\nparams = [{name = \"value\", type = \"uint8\", length_of = \"value\"}]\nroute = \"POST /a/b\"",
             ["is the length of 'value', which is uint8, not bytes or out_bytes"]),
            ("[[functions]\nsymbol = 1", ["fix: correct the TOML syntax"]),
        ]
        for (functions, expected) in cases { try assertDiagnosis(try manifest(functions), expected) }
    }

    func testTheFullFixtureManifestLoads() throws {
        XCTAssertNil(try NativeTestSupport.diagnosis(NativeFixtureTests.manifest(library: try NativeTestSupport.fixtureLibrary())))
    }
}
