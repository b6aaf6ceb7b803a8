import Foundation
@testable import PlexusRuntime
import XCTest

/// Native functions called through libffi from their manifests (no runtime): zlib and libm
/// checked against values computed apart from Plexus (Python's zlib, known constants), and the
/// fixture library's scalars, structs, strings and error convention.
final class NativeCallTests: XCTestCase {
    private func shipped(_ name: String) throws -> NativeBinding {
        try NativeTestSupport.bind(String(contentsOf: NativeTestSupport.root.appendingPathComponent("Tests/Fixtures/Native/\(name).native.toml"), encoding: .utf8))
    }

    private func value(_ result: Result<[String: Any], NativeCallProblem>, _ key: String = "result", file: StaticString = #filePath, line: UInt = #line) -> Any? {
        switch result {
        case .success(let object): return object[key]
        case .failure(let problem): XCTFail("unexpected problem: \(problem.json)", file: file, line: line); return nil
        }
    }

    func testZlibChecksumsMatchPythonsZlib() throws {
        let zlib = try shipped("zlib")
        for text in ["hello", "", String(repeating: "plexus ", count: 300)] {
            let base64 = Data(text.utf8).base64EncodedString()
            let crc = value(try NativeTestSupport.call(zlib, "crc32", "{\"data\": \"\(base64)\"}")) as? NSNumber
            XCTAssertEqual(crc?.stringValue, NativeTestSupport.python("zlib.crc32(base64.b64decode('\(base64)'))"), text)
            let adler = value(try NativeTestSupport.call(zlib, "adler32", "{\"data\": \"\(base64)\"}")) as? NSNumber
            XCTAssertEqual(adler?.stringValue, NativeTestSupport.python("zlib.adler32(base64.b64decode('\(base64)'))"), text)
        }
        // A running checksum continues from the value passed in; and a known constant.
        let first = value(try NativeTestSupport.call(zlib, "crc32", "{\"data\": \"aGVs\"}")) as? NSNumber
        let whole = value(try NativeTestSupport.call(zlib, "crc32", "{\"crc\": \(first!), \"data\": \"bG8=\"}")) as? NSNumber
        XCTAssertEqual(whole?.uint64Value, 907_060_870, "crc32(\"hello\") = 0x3610A686")
        // The raw-body form: the one bytes parameter is the body; the rest take their defaults.
        let raw = value(try NativeTestSupport.call(zlib, "crc32", "", raw: Array("hello".utf8))) as? NSNumber
        XCTAssertEqual(raw?.uint64Value, 907_060_870)
    }

    func testCompressBoundAndCompress2RoundTripThroughPython() throws {
        let zlib = try shipped("zlib")
        let bound = value(try NativeTestSupport.call(zlib, "compressBound", "{\"sourceLen\": 100000}")) as? NSNumber
        XCTAssertEqual(bound?.stringValue, NativeTestSupport.python("100000 + (100000 >> 12) + (100000 >> 14) + (100000 >> 25) + 13"))
        let text = String(repeating: "native actions through libffi, ", count: 200)
        let base64 = Data(text.utf8).base64EncodedString()
        let reply = try NativeTestSupport.call(zlib, "compress2", "{\"source\": \"\(base64)\", \"level\": 9}")
        XCTAssertEqual((value(reply) as? NSNumber)?.intValue, 0, "Z_OK")
        let compressed = try XCTUnwrap(value(reply, "dest") as? String)
        XCTAssertEqual((value(reply, "destLen") as? NSNumber)?.intValue, Data(base64Encoded: compressed)?.count)
        XCTAssertLessThan(compressed.count, base64.count / 10)
        XCTAssertEqual(NativeTestSupport.python("base64.b64encode(zlib.decompress(base64.b64decode('\(compressed)'))).decode()"), base64)
        // The error convention: level 42 is Z_STREAM_ERROR (-2), reported as a problem.
        guard case .failure(let problem) = try NativeTestSupport.call(zlib, "compress2", "{\"source\": \"\(base64)\", \"level\": 42}") else {
            return XCTFail("level 42 must fail")
        }
        XCTAssertEqual(problem.status, 422)
        XCTAssertTrue(problem.detail.contains("compress2 returned -2"), problem.detail)
    }

    func testLibmAgainstKnownValues() throws {
        let libm = try shipped("libm")
        XCTAssertEqual(value(try NativeTestSupport.call(libm, "pow", "{\"x\": 2, \"y\": 10}")) as? Double, 1024)
        XCTAssertEqual(value(try NativeTestSupport.call(libm, "pow", "{\"x\": 2, \"y\": 0.5}")) as? Double, 1.4142135623730951)
        XCTAssertEqual(value(try NativeTestSupport.call(libm, "hypot", "{\"x\": 3, \"y\": 4}")) as? Double, 5)
        XCTAssertEqual(value(try NativeTestSupport.call(libm, "hypot", "{\"x\": 5, \"y\": 12}")) as? Double, 13)
        let frexp = try NativeTestSupport.call(libm, "frexp", "{\"x\": 8}")
        XCTAssertEqual(value(frexp) as? Double, 0.5)
        XCTAssertEqual((value(frexp, "exponent") as? NSNumber)?.intValue, 4, "8 = 0.5 × 2^4")
        let negative = try NativeTestSupport.call(libm, "frexp", "{\"x\": -0.375}")
        XCTAssertEqual(value(negative) as? Double, -0.75)
        XCTAssertEqual((value(negative, "exponent") as? NSNumber)?.intValue, -1)
        // JSON has no NaN: it is reported as a string.
        XCTAssertEqual(value(try NativeTestSupport.call(libm, "pow", "{\"x\": -1, \"y\": 0.5}")) as? String, "NaN")
    }

    func testHostileArgumentsAreRefusedBeforeAnyCall() throws {
        let libm = try shipped("libm"), zlib = try shipped("zlib")
        let cases: [(NativeBinding, String, String, String)] = [
            (libm, "pow", "{\"x\": 2}", "parameter 'y' is missing"),
            (libm, "pow", "{\"x\": \"2\", \"y\": 1}", "parameter 'x' must be a number, got a string"),
            (libm, "pow", "{\"x\": 2, \"y\": 1, \"z\": 3}", "unknown parameter 'z'"),
            (libm, "frexp", "{\"x\": 2, \"exponent\": 3}", "unknown parameter 'exponent'"),
            (zlib, "crc32", "{\"data\": \"!!!\"}", "parameter 'data' is not valid base64"),
            (zlib, "crc32", "{\"crc\": -1, \"data\": \"\"}", "parameter 'crc' -1 is out of the range of uint64"),
            (zlib, "crc32", "{\"crc\": 1.5, \"data\": \"\"}", "parameter 'crc' must be an integer (uint64), got a number"),
            (zlib, "compress2", "{\"source\": \"\", \"level\": 4294967296}", "parameter 'level' 4294967296 is out of the range of int32"),
            (zlib, "compressBound", "[1]", "the body is not a JSON object"),
        ]
        for (binding, symbol, json, expected) in cases {
            guard case .failure(let problem) = try NativeTestSupport.call(binding, symbol, json) else { XCTFail("\(json) was accepted"); continue }
            XCTAssertEqual(problem.status, 400, json)
            XCTAssertTrue(problem.detail.contains(expected), "\(json): \(problem.detail)")
        }
    }
}
