import Foundation
import PlexusTesting
import XCTest

/// The plugin in the real runtime: domains published through ABI 1.6 route requests to their
/// tenant, suspended tenants get 403 from the gateway, and tenant A's credentials read or change
/// nothing of tenant B, through every route, on B's domain and on A's.
final class WhiteLabelLiveTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let binDirectory = URL(fileURLWithPath: ProcessInfo.processInfo.environment["PLEXUS_BIN_DIR"] ?? root.appendingPathComponent(".build/debug").path)
    static let grant = "[tenants]\ndirectory_plugins = \"whitelabel\"\n"

    static func runtime(extra: String = grant) throws -> TestRuntime {
        let binary = binDirectory.appendingPathComponent("plexus"), plugin = binDirectory.appendingPathComponent("libPlexusWhiteLabel.so")
        for file in [binary, plugin] where !FileManager.default.fileExists(atPath: file.path) {
            throw TestFailure("no \(file.path): run `swift build` first (or set PLEXUS_BIN_DIR)")
        }
        return try TestRuntime(binary: binary, plugins: [plugin], extra: extra)
    }

    /// One request with a `Host` and a key of our choosing.
    static func call(_ runtime: TestRuntime, _ method: String, _ path: String, host: String = "localhost", key: String?, body: [UInt8]? = nil,
                     type: String = "application/json") throws -> TestResponse {
        let client = try TestClient(port: runtime.port)
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(host)\r\n"
        if let key { head += "Authorization: Bearer \(key)\r\n" }
        if let body { head += "Content-Type: \(type)\r\nContent-Length: \(body.count)\r\n" } else if method != "GET" { head += "Content-Length: 0\r\n" }
        try client.send(head + "Connection: close\r\n\r\n")
        // A body the server refuses on its head (413) may meet a closed socket: the answer is still there.
        if let body, !body.isEmpty { try? client.send(body) }
        return try client.readResponse()
    }

    static func call(_ runtime: TestRuntime, _ method: String, _ path: String, host: String = "localhost", key: String?, json: String) throws -> TestResponse {
        try call(runtime, method, path, host: host, key: key, body: Array(json.utf8))
    }

    static func onboard(_ runtime: TestRuntime, _ id: String, domain: String) throws -> String {
        let response = try call(runtime, "POST", "/api/v1/onboarding", key: runtime.adminKey,
                                json: #"{"tenant":{"id":"\#(id)","display_name":"\#(id.capitalized)","plan":"pro","contact":"ops@\#(domain)"},"domains":["\#(domain)"]}"#)
        guard response.status == 201, let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any], let key = object["key"] as? String else {
            throw TestFailure("onboarding \(id): \(response.status) \(response.text)")
        }
        return key
    }

    static func svg(_ fill: String) -> [UInt8] {
        Array(#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10" fill="\#(fill)"/></svg>"#.utf8)
    }

    func testIsolationMatrixOnBothDomainsAndSuspension() throws { try Self.isolationMatrixOnBothDomainsAndSuspension(try Self.runtime()) }

    /// The scenario, on SQLite here and on PostgreSQL in `WhiteLabelOnPostgresTests`.
    static func isolationMatrixOnBothDomainsAndSuspension(_ runtime: TestRuntime) throws {
        let admin = runtime.adminKey
        XCTAssertEqual(try Self.call(runtime, "PUT", "/api/v1/plans/pro/defaults", key: admin, json: #"{"flags":[{"name":"welcome","enabled":true}]}"#).status, 200)
        XCTAssertEqual(try Self.call(runtime, "PUT", "/api/v1/settings/theme/definition", key: admin,
                                     json: #"{"schema":{"type":"string","enum":["light","dark","b-only","a-value"]},"platform":"light"}"#).status, 200)
        let a = try Self.onboard(runtime, "acme", domain: "acme.test")
        let b = try Self.onboard(runtime, "globex", domain: "globex.test")
        // B's data, written with B's key on B's domain.
        let bHost = "globex.test", aHost = "acme.test"
        XCTAssertEqual(try Self.call(runtime, "PUT", "/api/v1/flags/b-secret", host: bHost, key: b, json: #"{"enabled":true}"#).status, 200)
        XCTAssertEqual(try Self.call(runtime, "PUT", "/api/v1/settings/theme", host: bHost, key: b, json: #"{"value":"b-only"}"#).status, 200)
        XCTAssertEqual(try Self.call(runtime, "PUT", "/api/v1/branding", host: bHost, key: b, json: Self.branding("Globex Portal", "#00aa00")).status, 200)
        XCTAssertEqual(try Self.call(runtime, "PUT", "/api/v1/branding/logo", host: bHost, key: b, body: Self.svg("green"), type: "image/svg+xml").status, 201)

        // Every route, with A's key, aimed at B: on B's domain the gateway refuses; on A's, nothing of B is reached.
        let matrix: [(method: String, path: String, body: [UInt8]?, onA: (TestResponse) -> Bool)] = [
            ("GET", "/api/v1/tenants/globex", nil, { $0.status == 404 }),
            ("PATCH", "/api/v1/tenants/globex", Array(#"{"display_name":"pwned"}"#.utf8), { $0.status == 404 }),
            ("DELETE", "/api/v1/tenants/globex", nil, { $0.status == 403 }),
            ("POST", "/api/v1/tenants/globex/domains", Array(#"{"domain":"evil.test"}"#.utf8), { $0.status == 403 }),
            ("DELETE", "/api/v1/tenants/globex/domains/globex.test", nil, { $0.status == 403 }),
            ("GET", "/api/v1/tenants", nil, { $0.status == 200 && !$0.text.contains("globex") }),
            ("GET", "/api/v1/flags/definitions", nil, { $0.status == 200 && !$0.text.contains("b-secret") }),
            ("GET", "/api/v1/flags", nil, { $0.status == 200 && !$0.text.contains("b-secret") }),
            ("POST", "/api/v1/flags/b-secret/explain", Array("{}".utf8), { $0.status == 404 }),
            ("DELETE", "/api/v1/flags/b-secret", nil, { $0.status == 404 }),
            ("PUT", "/api/v1/flags/b-secret", Array(#"{"enabled":false}"#.utf8), { $0.status == 200 }),
            ("GET", "/api/v1/settings/theme?explain=1", nil, { $0.status == 200 && !$0.text.contains("b-only") }),
            ("GET", "/api/v1/settings/theme/history", nil, { $0.status == 200 && $0.text == "[]" }),
            ("POST", "/api/v1/settings/theme/revert", Array(#"{"version":1}"#.utf8), { $0.status == 404 }),
            ("PUT", "/api/v1/settings/theme", Array(#"{"value":"a-value"}"#.utf8), { $0.status == 200 }),
            ("GET", "/api/v1/branding", nil, { $0.status == 200 && !$0.text.contains("Globex") }),
            ("PUT", "/api/v1/branding", Array(Self.branding("Acme Cloud", "#cc0000").utf8), { $0.status == 200 }),
            ("GET", "/branding/logo", nil, { $0.status == 404 }),
            ("PUT", "/api/v1/branding/logo", Self.svg("red"), { $0.status == 201 }),
            ("GET", "/branding.css", nil, { $0.status == 200 && !$0.text.contains("#00aa00") }),
            ("GET", "/", nil, { $0.status == 200 && !$0.text.contains("Globex") }),
        ]
        for row in matrix {
            let onB = try Self.call(runtime, row.method, row.path, host: bHost, key: a, body: row.body)
            XCTAssertEqual(onB.status, 403, "\(row.method) \(row.path) with A's key on B's domain: \(onB.text)")
            let onA = try Self.call(runtime, row.method, row.path, host: aHost, key: a, body: row.body)
            XCTAssertTrue(row.onA(onA), "\(row.method) \(row.path) with A's key on A's domain: \(onA.status) \(onA.text)")
        }
        // B's data is as B left it.
        var response = try Self.call(runtime, "GET", "/api/v1/flags/definitions", host: bHost, key: b)
        XCTAssertTrue(response.text.contains(#""enabled":true,"name":"b-secret""#), response.text)
        response = try Self.call(runtime, "GET", "/api/v1/settings/theme", host: bHost, key: b)
        XCTAssertEqual(response.text, #"{"key":"theme","value":"b-only"}"#)
        response = try Self.call(runtime, "GET", "/api/v1/tenants/globex", host: bHost, key: b)
        XCTAssertTrue(response.text.contains(#""display_name":"Globex""#), response.text)
        // Anonymous visitors get each domain's own branding and assets.
        response = try Self.call(runtime, "GET", "/branding/logo", host: bHost, key: nil)
        XCTAssertEqual(response.body, Self.svg("green"))
        response = try Self.call(runtime, "GET", "/branding/logo", host: aHost, key: nil)
        XCTAssertEqual(response.body, Self.svg("red"))
        let landing = try Self.call(runtime, "GET", "/", host: bHost, key: nil)
        XCTAssertTrue(landing.text.contains("Globex Portal"))
        // The page's own policy replaces the runtime's default (which allows no style or image); other answers keep the default.
        XCTAssertEqual(landing.headers.filter { $0.0.lowercased() == "content-security-policy" }.map(\.1),
                       ["default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self'; frame-ancestors 'none'"])
        XCTAssertEqual(try Self.call(runtime, "GET", "/api/v1/branding", host: bHost, key: nil).header("Content-Security-Policy"),
                       "default-src 'none'; frame-ancestors 'none'")
        XCTAssertTrue(try Self.call(runtime, "GET", "/branding.css", host: aHost, key: nil).text.contains("#cc0000"))

        // A domain of one tenant cannot be claimed by another.
        response = try Self.call(runtime, "POST", "/api/v1/tenants/acme/domains", key: admin, json: #"{"domain":"globex.test"}"#)
        XCTAssertEqual(response.status, 409)
        XCTAssertTrue(response.text.contains("owned by tenant 'globex'"), response.text)

        // Suspension: 403 on every plugin route for B, by key or by domain; A unaffected; lifted at once.
        XCTAssertEqual(try Self.call(runtime, "PATCH", "/api/v1/tenants/globex", key: admin, json: #"{"status":"suspended"}"#).status, 200)
        for (path, key) in [("/api/v1/flags", Optional(b)), ("/api/v1/settings/theme", b), ("/", nil), ("/branding.css", nil)] {
            response = try Self.call(runtime, "GET", path, host: bHost, key: key)
            XCTAssertEqual(response.status, 403, path)
            XCTAssertTrue(response.text.contains("tenant 'globex' is suspended"), response.text)
        }
        XCTAssertEqual(try Self.call(runtime, "GET", "/api/v1/flags", host: "localhost", key: b).status, 403, "B's key on any host")
        XCTAssertEqual(try Self.call(runtime, "GET", "/api/v1/flags", host: aHost, key: a).status, 200)
        XCTAssertEqual(try Self.call(runtime, "PATCH", "/api/v1/tenants/globex", key: admin, json: #"{"status":"active"}"#).status, 200)
        XCTAssertEqual(try Self.call(runtime, "GET", "/api/v1/flags", host: bHost, key: b).status, 200)
    }

    func testOnboardingFailuresLeaveNothingAndBadInputIsRefused() throws {
        let runtime = try Self.runtime()
        let admin = runtime.adminKey
        XCTAssertEqual(try Self.call(runtime, "PUT", "/api/v1/plans/pro/defaults", key: admin, json: #"{"flags":[{"name":"welcome","enabled":true}]}"#).status, 200)
        let a = try Self.onboard(runtime, "acme", domain: "acme.test")
        // A domain acme owns: the new tenant is deleted again.
        var response = try Self.call(runtime, "POST", "/api/v1/onboarding", key: admin,
                                     json: #"{"tenant":{"id":"initech","display_name":"Initech","plan":"pro","contact":"a@initech.test"},"domains":["initech.test","acme.test"]}"#)
        XCTAssertEqual(response.status, 409, response.text)
        XCTAssertEqual(try Self.call(runtime, "GET", "/api/v1/tenants/initech", key: admin).status, 404)
        // A plan without defaults fails after the admin key was made: the key is revoked in the runtime's store.
        response = try Self.call(runtime, "POST", "/api/v1/onboarding", key: admin,
                                 json: #"{"tenant":{"id":"initech","display_name":"Initech","plan":"gold","contact":"a@initech.test"},"domains":["initech.test"]}"#)
        XCTAssertEqual(response.status, 400, response.text)
        XCTAssertTrue(response.text.contains("create admin key"), response.text)
        let keys = try JSONSerialization.jsonObject(with: Data(try Self.call(runtime, "GET", "/admin/api-keys", key: admin).body)) as? [[String: Any]] ?? []
        let initech = keys.filter { $0["name"] as? String == "whitelabel/initech-admin" }
        XCTAssertEqual(initech.count, 1)
        XCTAssertNotNil(initech.first?["revoked_at"], "\(initech)")
        XCTAssertEqual(try Self.call(runtime, "GET", "/", host: "initech.test", key: nil).text.contains("Initech"), false)
        // Bad input: each a clear 4xx naming the problem.
        for (method, path, body, status, text) in [
            ("PUT", "/api/v1/flags/f", #"{"enabled":true,"strategies":[{"name":"gradualRollout","percentage":150}]}"#, 400, "outside 0 to 100"),
            ("PUT", "/api/v1/flags/f", #"{"enabled":true,"strategies":[{"name":"default","constraints":[{"contextName":"colour","operator":"IN","values":["x"]}]}]}"#, 400, "unknown context field 'colour'"),
            ("PUT", "/api/v1/flags/f", "{not json", 400, "not valid"),
            ("GET", "/api/v1/flags?context=%7Bnope", "", 400, "context must be a JSON object"),
            ("PUT", "/api/v1/branding", #"{"product_name":"x"}"#, 400, "is missing"),
        ] {
            response = try Self.call(runtime, method, path, host: "acme.test", key: a, body: method == "GET" ? nil : Array(body.utf8))
            XCTAssertEqual(response.status, status, "\(method) \(path) \(body): \(response.text)")
            XCTAssertTrue(response.text.contains(text), response.text)
        }
        response = try Self.call(runtime, "PUT", "/api/v1/settings/s/definition", key: admin, json: #"{"schema":{"type":"strnig"},"platform":"x"}"#)
        XCTAssertEqual(response.status, 400)
        XCTAssertTrue(response.text.contains("type 'strnig'"), response.text)
        response = try Self.call(runtime, "PUT", "/api/v1/branding/logo", host: "acme.test", key: a,
                                 body: Array(#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#.utf8))
        XCTAssertEqual(response.status, 400)
        XCTAssertTrue(response.text.contains("<script>"), response.text)
        response = try Self.call(runtime, "PUT", "/api/v1/branding/logo", host: "acme.test", key: a, body: [UInt8](repeating: 0x89, count: 20 * 1024 * 1024))
        XCTAssertEqual(response.status, 413)
        XCTAssertEqual(try Self.call(runtime, "GET", "/branding/logo", host: "acme.test", key: nil).status, 404, "nothing half written")
    }

    /// Without the operator's grant the runtime refuses the directory, and the plugin says why.
    func testWithoutTheGrantThePluginIsRefused() throws {
        let runtime = try Self.runtime(extra: "[tenants]\ndirectory_plugins = \"\"\n")
        XCTAssertTrue(runtime.logEventuallyContains("[tenants] directory_plugins"), runtime.log)
        XCTAssertEqual(try Self.call(runtime, "GET", "/api/v1/branding", key: nil).status, 404, "a failed plugin's routes are not mounted")
    }

    static func branding(_ name: String, _ colour: String) -> String {
        ##"{"product_name":"\##(name)","primary_color":"\##(colour)","secondary_color":"#111111","background_color":"#ffffff","text_color":"#000000","font_family":"Inter, sans-serif","email_sender_name":"\##(name)","legal_links":{}}"##
    }
}
