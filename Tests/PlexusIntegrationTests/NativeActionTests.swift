import Foundation
import PlexusTesting
import XCTest

/// Native plugins end to end over the real binary: C libraries served from `*.native.toml`
/// manifests as routes and bus services, failures as problem+json, bad manifests as failed
/// plugins with a diagnosis, and a crash inside a library contained, blamed and quarantined.
final class NativeActionTests: XCTestCase {
    private func manifest(_ name: String) throws -> String {
        try String(contentsOf: Repository.root.appendingPathComponent("Tests/Fixtures/Native/\(name).native.toml"), encoding: .utf8)
    }

    /// The fixture library's manifest (Tests/Fixtures/CPlugins/native.c, built with the C fixtures).
    private func fixtureManifest() throws -> String {
        let library = try Repository.cFixturesDirectory().appendingPathComponent("libnative-fixture.so").path
        return """
        name = "fixture"
        version = "1.0.0"
        library = "\(library)"

        [[structs]]
        name = "point"
        sizeof_symbol = "fixture_point_size"
        fields = [{name = "x", type = "int32"}, {name = "y", type = "int32"}, {name = "weight", type = "double"}]

        [[functions]]
        symbol = "fixture_point_translate"
        params = [{name = "p", type = "struct point *"}, {name = "dx", type = "int32"}, {name = "dy", type = "int32", default = 0}]
        service = "fixture.translate"

        [[functions]]
        symbol = "fixture_greet"
        returns = "string"
        free = "fixture_free"
        params = [{name = "name", type = "string"}]
        route = "POST /api/v1/fixture/greet"
        access = "public"

        [[functions]]
        symbol = "fixture_fail_errno"
        returns = "int32"
        params = [{name = "code", type = "int32"}]
        error = {below = 0, errno = true, status = 500}
        route = "POST /api/v1/fixture/fail"

        [[functions]]
        symbol = "fixture_sleep"
        returns = "int32"
        params = [{name = "ms", type = "int32"}]
        route = "POST /api/v1/fixture/sleep"
        timeout_ms = 300

        [[functions]]
        symbol = "fixture_crash"
        returns = "int32"
        params = [{name = "really", type = "int32", default = 1}]
        route = "POST /api/v1/fixture/crash"
        """
    }

    private func json(_ response: TestResponse) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
    }

    private func post(_ plexus: TestRuntime, _ path: String, _ body: String, json: Bool = true, anonymous: Bool = false) throws -> TestResponse {
        try plexus.request("POST", path, headers: json ? "Content-Type: application/json\r\n" : "Content-Type: application/octet-stream\r\n",
                           body: Array(body.utf8), anonymous: anonymous)
    }

    func testRoutesServicesAndDiagnosesOverTheRealRuntime() throws {
        let broken = "name = \"broken\"\nversion = \"1.0.0\"\nlibrary = \"libz.so.1\"\n[[functions]]\nsymbol = \"crc32\"\nreturns = \"uint64\"\n" +
            "params = [{name = \"data\", type = \"bytes\"}]\nroute = \"POST /api/v1/broken/crc32\"\n"
        let plexus = try Repository.startPlexus(swiftPlugins: ["libPlexusFixtureBusProbe.so"], cFixtures: ["hello-c"], pluginConfigs: [
            "zlib.native": try manifest("zlib"), "libm.native": try manifest("libm"), "fixture.native": try fixtureManifest(),
            "broken.native": broken,
        ])
        // zlib: JSON with base64, and the raw body for the one bytes parameter.
        let crc = try post(plexus, "/api/v1/zlib/crc32", #"{"crc": 0, "data": "aGVsbG8="}"#)
        XCTAssertEqual(crc.status, 200, crc.text)
        XCTAssertEqual((json(crc)["result"] as? NSNumber)?.uint64Value, 907_060_870)
        XCTAssertEqual((json(try post(plexus, "/api/v1/zlib/crc32", "hello", json: false))["result"] as? NSNumber)?.uint64Value, 907_060_870)
        let compressed = try post(plexus, "/api/v1/zlib/compress?level=9", String(repeating: "abc", count: 1000), json: false)
        XCTAssertEqual(compressed.status, 200, compressed.text)
        let dest = try XCTUnwrap(json(compressed)["dest"] as? String)
        XCTAssertEqual(NativeTestPython.run("len(zlib.decompress(base64.b64decode('\(dest)')))"), "3000")
        // libm with an output parameter.
        let frexp = json(try post(plexus, "/api/v1/m/frexp", #"{"x": 48}"#))
        XCTAssertEqual(frexp["result"] as? Double, 0.75)
        XCTAssertEqual(frexp["exponent"] as? Int, 6)
        // Bus services, called from another plugin.
        let service = try plexus.request("POST", "/api/v1/probe/call/m.hypot", body: Array(#"{"x": 8, "y": 15}"#.utf8))
        XCTAssertEqual(json(service)["result"] as? Double, 17, service.text)
        let rawService = try plexus.request("POST", "/api/v1/probe/call/zlib.adler32", body: Array("hello".utf8))
        XCTAssertEqual((json(rawService)["result"] as? NSNumber)?.stringValue, NativeTestPython.run("zlib.adler32(b'hello')"), rawService.text)
        let moved = try plexus.request("POST", "/api/v1/probe/call/fixture.translate", body: Array(#"{"p": {"x": 1, "y": 1, "weight": 1}, "dx": 4, "dy": -3}"#.utf8))
        XCTAssertEqual((json(moved)["p"] as? [String: Any])?["x"] as? Int, 5, moved.text)
        XCTAssertEqual((json(moved)["p"] as? [String: Any])?["y"] as? Int, -2, moved.text)
        // Strings, access rules, errors and timeouts.
        let greet = try post(plexus, "/api/v1/fixture/greet", #"{"name": "plexus"}"#, anonymous: true)
        XCTAssertEqual(json(greet)["result"] as? String, "hello, plexus", greet.text)
        XCTAssertEqual(try post(plexus, "/api/v1/fixture/fail", #"{"code": 0}"#, anonymous: true).status, 401, "authenticated by default")
        let failed = try post(plexus, "/api/v1/fixture/fail", #"{"code": 13}"#)
        XCTAssertEqual(failed.status, 500)
        XCTAssertEqual(failed.header("Content-Type"), "application/problem+json")
        XCTAssertTrue((json(failed)["detail"] as? String ?? "").contains("fixture_fail_errno returned -1: Permission denied (errno 13)"), failed.text)
        let bad = try post(plexus, "/api/v1/m/pow", #"{"x": "two", "y": 1}"#)
        XCTAssertEqual(bad.status, 400)
        XCTAssertTrue(bad.text.contains("parameter 'x' must be a number"), bad.text)
        XCTAssertEqual(try post(plexus, "/api/v1/fixture/sleep", #"{"ms": 2000}"#).status, 504, "the route's timeout")
        XCTAssertEqual(try post(plexus, "/api/v1/fixture/sleep", #"{"ms": 1}"#).status, 200)
        // Plugin states: the broken manifest failed with its diagnosis; everything else serves.
        let plugins = try plexus.pluginsByFile()
        XCTAssertEqual(plugins["zlib.native.toml"]?["state"] as? String, "running")
        XCTAssertEqual(plugins["broken.native.toml"]?["state"] as? String, "failed")
        XCTAssertEqual(plugins["broken.native.toml"]?["reason"] as? String,
                       "broken.native.toml: function 'crc32': bytes parameter 'data' has no length; fix: add an integer parameter with length_of = \"data\"")
        XCTAssertEqual(try plexus.get("/api/v1/c/hello").status, 200)
        // OpenAPI from the manifest; per-route metrics as for any plugin.
        let openapi = try plexus.get("/openapi.json").text
        XCTAssertTrue(openapi.contains("/api/v1/zlib/crc32") && openapi.contains("contentEncoding"), openapi)
        XCTAssertTrue(try plexus.get("/metrics").text.contains("/api/v1/zlib/crc32"))
        XCTAssertEqual(plexus.stop(), 0)
    }

    func testPluginInspectShowsFunctionsAndRoutes() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("plexus-native-inspect-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent("zlib.native.toml")
        try manifest("zlib").write(to: file, atomically: true, encoding: .utf8)
        let (status, output) = NativeTestPython.process(Repository.plexusBinary.path, ["plugin", "inspect", file.path])
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(output.contains("crc32(uint64 crc, bytes data, uint32 length) -> uint64"), output)
        XCTAssertTrue(output.contains("POST /api/v1/zlib/crc32") && output.contains("zlib.compress"), output)
        XCTAssertTrue(output.contains("compatible: native library"), output)
        try "name = \"zlib\"\nversion = \"1.0.0\"\nlibrary = \"libz.so.1\"\n[[functions]]\nsymbol = \"crc64\"\nroute = \"GET /a/b\"\n"
            .write(to: file, atomically: true, encoding: .utf8)
        let refused = NativeTestPython.process(Repository.plexusBinary.path, ["plugin", "inspect", file.path])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.output.contains("not loadable: zlib.native.toml: function 'crc64': symbol 'crc64' is not exported"), refused.output)
    }

    /// A segfault inside the library kills the worker; the supervisor blames the native plugin's
    /// call, answers the others, and quarantines the plugin after three crashes.
    func testCrashInsideTheLibraryIsBlamedAndQuarantined() throws {
        let plexus = try Repository.startPlexus(swiftPlugins: [], cFixtures: ["hello-c"], pluginConfigs: ["fixture.native": try fixtureManifest()],
                                                extra: "[supervisor]\nenabled = true\n")
        XCTAssertEqual(try plexus.get("/api/v1/c/hello").status, 200)
        let culprit = "crashed in plugin 'fixture' (native call fixture_crash) from SIGSEGV"
        for crash in 1...3 {
            _ = try? post(plexus, "/api/v1/fixture/crash", "{}")  // never answered: the worker dies
            let deadline = Date().addingTimeInterval(20)
            while plexus.log.components(separatedBy: culprit).count - 1 < crash, Date() < deadline { usleep(50_000) }
            XCTAssertGreaterThanOrEqual(plexus.log.components(separatedBy: culprit).count - 1, crash, plexus.log)
            XCTAssertEqual(try plexus.get("/api/v1/c/hello").status, 200)
        }
        XCTAssertTrue(plexus.logEventuallyContains("plugin 'fixture' quarantined", seconds: 20), plexus.log)
        XCTAssertEqual(try plexus.get("/api/v1/fixture/greet").status, 404, "a quarantined plugin's routes are gone")
        let entry = try XCTUnwrap(try plexus.pluginsByFile()["fixture.native.toml"], plexus.log)
        XCTAssertEqual(entry["state"] as? String, "failed")
        XCTAssertTrue((entry["reason"] as? String ?? "").hasPrefix("quarantined: "), "\(entry)")
        XCTAssertEqual(plexus.stop(), 0)
    }
}

/// Values computed apart from Plexus (Python's zlib), and running the CLI.
enum NativeTestPython {
    static func run(_ expression: String) -> String {
        process("/usr/bin/python3", ["-c", "import zlib, base64; print(\(expression))"]).output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func process(_ executable: String, _ arguments: [String]) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        do { try process.run() } catch { return (-1, "\(error)") }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
