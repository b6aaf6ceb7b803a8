import Foundation
@testable import PlexusRuntime
import XCTest

/// The fixture library (Tests/Fixtures/CPlugins/native.c) through libffi: every scalar width,
/// structs by value and by pointer, returned strings freed or static, errno, and bad manifests.
final class NativeFixtureTests: XCTestCase {
    static func manifest(library: String) -> String {
        """
        name = "fixture"
        version = "1.0.0"
        library = "\(library)"

        [[structs]]
        name = "point"
        sizeof_symbol = "fixture_point_size"
        fields = [{name = "x", type = "int32"}, {name = "y", type = "int32"}, {name = "weight", type = "double"}]

        [[functions]]
        symbol = "fixture_point_norm"
        returns = "double"
        params = [{name = "p", type = "struct point"}]
        route = "POST /api/v1/fixture/norm"

        [[functions]]
        symbol = "fixture_point_scale"
        returns = "struct point"
        params = [{name = "p", type = "struct point"}, {name = "factor", type = "int32"}]
        route = "POST /api/v1/fixture/scale"

        [[functions]]
        symbol = "fixture_point_translate"
        returns = "void"
        params = [{name = "p", type = "struct point *"}, {name = "dx", type = "int32"}, {name = "dy", type = "int32", default = 0}]
        route = "POST /api/v1/fixture/translate"
        service = "fixture.translate"

        [[functions]]
        symbol = "fixture_mix"
        returns = "int64"
        params = [{name = "a", type = "int8"}, {name = "b", type = "uint8"}, {name = "c", type = "int16"}, {name = "d", type = "uint16"},
                  {name = "e", type = "int32"}, {name = "f", type = "uint32"}, {name = "g", type = "int64"}, {name = "h", type = "uint64"},
                  {name = "x", type = "float"}, {name = "flag", type = "bool"}]
        route = "POST /api/v1/fixture/mix"

        [[functions]]
        symbol = "fixture_u8_not"
        returns = "uint8"
        params = [{name = "value", type = "uint8"}]
        service = "fixture.u8-not"

        [[functions]]
        symbol = "fixture_i8_negate"
        returns = "int8"
        params = [{name = "value", type = "int8"}]
        service = "fixture.i8-negate"

        [[functions]]
        symbol = "fixture_u64_max"
        returns = "uint64"
        service = "fixture.u64-max"

        [[functions]]
        symbol = "fixture_i64_min"
        returns = "int64"
        service = "fixture.i64-min"

        [[functions]]
        symbol = "fixture_float_half"
        returns = "float"
        params = [{name = "value", type = "float"}]
        service = "fixture.float-half"

        [[functions]]
        symbol = "fixture_is_even"
        returns = "bool"
        params = [{name = "value", type = "int64"}]
        service = "fixture.is-even"

        [[functions]]
        symbol = "fixture_greet"
        returns = "string"
        free = "fixture_free"
        params = [{name = "name", type = "string"}]
        route = "POST /api/v1/fixture/greet"
        service = "fixture.greet"

        [[functions]]
        symbol = "fixture_freed_count"
        returns = "int32"
        route = "GET /api/v1/fixture/freed"

        [[functions]]
        symbol = "fixture_version"
        returns = "string"
        lifetime = "static"
        route = "GET /api/v1/fixture/version"

        [[functions]]
        symbol = "fixture_fail_errno"
        returns = "int32"
        params = [{name = "code", type = "int32"}]
        error = {below = 0, errno = true, status = 500}
        route = "POST /api/v1/fixture/fail"

        [[functions]]
        symbol = "fixture_reverse"
        returns = "int64"
        params = [{name = "input", type = "bytes"}, {name = "length", type = "size_t", length_of = "input"},
                  {name = "output", type = "out_bytes", capacity = 4}, {name = "capacity", type = "size_t", length_of = "output"}]
        route = "POST /api/v1/fixture/reverse"

        [[functions]]
        symbol = "fixture_sleep"
        returns = "int32"
        params = [{name = "ms", type = "int32"}]
        route = "POST /api/v1/fixture/sleep"
        timeout_ms = 300
        access = "public"

        [[functions]]
        symbol = "fixture_crash"
        returns = "int32"
        params = [{name = "really", type = "int32", default = 1}]
        route = "POST /api/v1/fixture/crash"
        access = "public"
        """
    }

    private func binding() throws -> NativeBinding {
        try NativeTestSupport.bind(Self.manifest(library: try NativeTestSupport.fixtureLibrary()))
    }

    private func reply(_ binding: NativeBinding, _ symbol: String, _ json: String) throws -> [String: Any] {
        switch try NativeTestSupport.call(binding, symbol, json) {
        case .success(let object): return object
        case .failure(let problem): throw NativeTestError("\(symbol): \(problem.json)")
        }
    }

    func testStructsByValueAndByPointer() throws {
        let fixture = try binding()
        let layout = try XCTUnwrap(fixture.structs.first)
        XCTAssertEqual(layout.size, 16)
        XCTAssertEqual(layout.fields.map(\.offset), [0, 4, 8])
        XCTAssertEqual(try reply(fixture, "fixture_point_norm", "{\"p\": {\"x\": 3, \"y\": 4, \"weight\": 2.5}}")["result"] as? Double, 12.5)
        let scaled = try XCTUnwrap(try reply(fixture, "fixture_point_scale", "{\"p\": {\"x\": 3, \"y\": -4, \"weight\": 0.5}, \"factor\": 3}")["result"] as? [String: Any])
        XCTAssertEqual(scaled["x"] as? Int, 9)
        XCTAssertEqual(scaled["y"] as? Int, -12)
        XCTAssertEqual(scaled["weight"] as? Double, 1.5)
        let moved = try XCTUnwrap(try reply(fixture, "fixture_point_translate", "{\"p\": {\"x\": 1, \"y\": 2, \"weight\": 1}, \"dx\": 10}")["p"] as? [String: Any])
        XCTAssertEqual(moved["x"] as? Int, 11)
        XCTAssertEqual(moved["y"] as? Int, 2)
        guard case .failure(let problem) = try NativeTestSupport.call(fixture, "fixture_point_norm", "{\"p\": {\"x\": 3, \"y\": 4}}") else { return XCTFail() }
        XCTAssertTrue(problem.detail.contains("parameter 'p.weight' is missing"), problem.detail)
    }

    func testEveryScalarWidth() throws {
        let fixture = try binding()
        let mix = try reply(fixture, "fixture_mix", """
            {"a": -128, "b": 255, "c": -32768, "d": 65535, "e": -2147483648, "f": 4294967295, "g": 1000000000000, "h": 18446744073709551615, "x": 2.25, "flag": true}
            """)
        let expected: Int64 = -128 + 255 - 32768 + 65535 - 2_147_483_648 + 4_294_967_295 + 1_000_000_000_000 + Int64(UInt64.max % 1_000_000) + 9 + 1_000_000_000
        XCTAssertEqual((mix["result"] as? NSNumber)?.int64Value, expected)
        XCTAssertEqual(try reply(fixture, "fixture_u8_not", "{\"value\": 15}")["result"] as? Int, 240)
        XCTAssertEqual(try reply(fixture, "fixture_i8_negate", "{\"value\": -127}")["result"] as? Int, 127)
        XCTAssertEqual((try reply(fixture, "fixture_u64_max", "")["result"] as? NSNumber)?.uint64Value, UInt64.max)
        XCTAssertEqual((try reply(fixture, "fixture_i64_min", "")["result"] as? NSNumber)?.int64Value, Int64.min)
        XCTAssertEqual(try reply(fixture, "fixture_float_half", "{\"value\": 5}")["result"] as? Double, 2.5)
        XCTAssertEqual(try reply(fixture, "fixture_is_even", "{\"value\": 42}")["result"] as? Bool, true)
        XCTAssertEqual(try reply(fixture, "fixture_is_even", "{\"value\": -7}")["result"] as? Bool, false)
        guard case .failure(let problem) = try NativeTestSupport.call(fixture, "fixture_u8_not", "{\"value\": 256}") else { return XCTFail() }
        XCTAssertTrue(problem.detail.contains("256 is out of the range of uint8 (0 to 255)"), problem.detail)
        guard case .failure(let flag) = try NativeTestSupport.call(fixture, "fixture_is_even", "{\"value\": true}") else { return XCTFail() }
        XCTAssertTrue(flag.detail.contains("must be an integer"), flag.detail)
    }

    func testStringsAreCopiedThenFreedOrLeftStatic() throws {
        let fixture = try binding()
        let before = try XCTUnwrap(try reply(fixture, "fixture_freed_count", "")["result"] as? Int)
        XCTAssertEqual(try reply(fixture, "fixture_greet", "{\"name\": \"Grüße\"}")["result"] as? String, "hello, Grüße")
        XCTAssertEqual(try reply(fixture, "fixture_greet", "{\"name\": \"\"}")["result"] as? String, "hello, ")
        XCTAssertEqual(try reply(fixture, "fixture_freed_count", "")["result"] as? Int, before + 2, "each returned string freed once")
        XCTAssertEqual(try reply(fixture, "fixture_version", "")["result"] as? String, "fixture 1.0")
        guard case .failure(let problem) = try NativeTestSupport.call(fixture, "fixture_greet", "{\"name\": \"a\\u0000b\"}") else { return XCTFail() }
        XCTAssertTrue(problem.detail.contains("NUL"), problem.detail)
    }

    func testErrnoAndOutputBuffers() throws {
        let fixture = try binding()
        XCTAssertEqual(try reply(fixture, "fixture_fail_errno", "{\"code\": 0}")["result"] as? Int, 7)
        guard case .failure(let problem) = try NativeTestSupport.call(fixture, "fixture_fail_errno", "{\"code\": \(ENOENT)}") else { return XCTFail() }
        XCTAssertEqual(problem.status, 500)
        XCTAssertTrue(problem.detail.contains("fixture_fail_errno returned -1: No such file or directory (errno \(ENOENT))"), problem.detail)
        XCTAssertTrue(problem.json.contains("\"errno\":\(ENOENT)"), problem.json)
        // Capacity 4: the function writes at most 4 bytes, the reply carries the whole buffer.
        let reversed = try reply(fixture, "fixture_reverse", "{\"input\": \"\(Data("abcdef".utf8).base64EncodedString())\"}")
        XCTAssertEqual(reversed["result"] as? Int, 4)
        XCTAssertEqual((reversed["output"] as? String).flatMap { Data(base64Encoded: $0) }, Data("fedc".utf8))
    }
}
