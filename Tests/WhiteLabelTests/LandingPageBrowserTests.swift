import Foundation
import PlexusTesting
import XCTest

/// Two tenants' landing pages in headless Chromium (Debian's `chromium`): each screenshot shows
/// its tenant's colours and logo and none of the other's. Bounded: each browser run is killed
/// after 60 s. Skipped, saying so, when no chromium is installed.
final class LandingPageBrowserTests: XCTestCase {
    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }

    func testEachDomainShowsItsOwnBrandingOnly() throws {
        guard let chromium = Self.chromium else {
            throw XCTSkip("chromium is not installed (scripts/install-deps.sh installs Debian's chromium): the browser test cannot run")
        }
        let runtime = try WhiteLabelLiveTests.runtime()
        let admin = runtime.adminKey
        XCTAssertEqual(try WhiteLabelLiveTests.call(runtime, "PUT", "/api/v1/plans/pro/defaults", key: admin, json: #"{"flags":[]}"#).status, 200)
        let tenants = [("acme", "acme.test", "Acme Cloud", "#cc0000", "#0000ff"), ("globex", "globex.test", "Globex Portal", "#00aa00", "#ffff00")]
        for (id, domain, name, primary, logo) in tenants {
            let key = try WhiteLabelLiveTests.onboard(runtime, id, domain: domain)
            XCTAssertEqual(try WhiteLabelLiveTests.call(runtime, "PUT", "/api/v1/branding", host: domain, key: key,
                                                        json: WhiteLabelLiveTests.branding(name, primary)).status, 200)
            let svg = #"<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" fill="\#(logo)"/></svg>"#
            XCTAssertEqual(try WhiteLabelLiveTests.call(runtime, "PUT", "/api/v1/branding/logo", host: domain, key: key, body: Array(svg.utf8)).status, 201)
        }
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("wl-browser-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        var colours: [String: [String: Int]] = [:]
        for (id, domain, _, _, _) in tenants {
            let shot = work.appendingPathComponent("\(id).png")
            let url = "http://\(domain):\(runtime.port)/"
            let status = try Self.run(["timeout", "60", chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                                       "--user-data-dir=\(work.appendingPathComponent("profile-\(id)").path)",
                                       "--host-resolver-rules=MAP \(domain) 127.0.0.1", "--window-size=640,400",
                                       "--screenshot=\(shot.path)", url])
            XCTAssertEqual(status, 0, "chromium on \(url)")
            if let keep = ProcessInfo.processInfo.environment["WHITELABEL_SCREENSHOTS"] {   // a directory to keep the screenshots in
                try? FileManager.default.copyItem(at: shot, to: URL(fileURLWithPath: keep).appendingPathComponent("\(id).png"))
            }
            colours[id] = try Self.count(["cc0000", "0000ff", "00aa00", "ffff00"], in: shot)
        }
        let acme = try XCTUnwrap(colours["acme"]), globex = try XCTUnwrap(colours["globex"])
        XCTAssertGreaterThan(acme["cc0000"] ?? 0, 10_000, "acme's header in its primary colour: \(acme)")
        XCTAssertGreaterThan(acme["0000ff"] ?? 0, 1_000, "acme's logo: \(acme)")
        XCTAssertEqual(acme["00aa00"], 0, "no globex colour on acme.test: \(acme)")
        XCTAssertEqual(acme["ffff00"], 0, "no globex logo on acme.test: \(acme)")
        XCTAssertGreaterThan(globex["00aa00"] ?? 0, 10_000, "globex's header: \(globex)")
        XCTAssertGreaterThan(globex["ffff00"] ?? 0, 1_000, "globex's logo: \(globex)")
        XCTAssertEqual(globex["cc0000"], 0, "no acme colour on globex.test: \(globex)")
        XCTAssertEqual(globex["0000ff"], 0, "no acme logo on globex.test: \(globex)")
        // The names, as the browser laid them out.
        for (id, domain, name, _, _) in tenants {
            let dom = try Self.output(["timeout", "60", chromium, "--headless", "--no-sandbox", "--disable-gpu",
                                       "--user-data-dir=\(work.appendingPathComponent("dom-\(id)").path)",
                                       "--host-resolver-rules=MAP \(domain) 127.0.0.1", "--dump-dom", "http://\(domain):\(runtime.port)/"])
            XCTAssertTrue(dom.contains("<h1 id=\"product\">\(name)</h1>"), dom)
            XCTAssertFalse(dom.contains(id == "acme" ? "Globex" : "Acme"), dom)
        }
    }

    @discardableResult
    static func run(_ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    static func output(_ arguments: [String]) throws -> String {
        let process = Process(), pipe = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// Pixels of each colour (hex rrggbb) in a PNG, decoded by Python's zlib (8-bit RGB or RGBA, all PNG filters).
    static func count(_ colours: [String], in png: URL) throws -> [String: Int] {
        let script = #"""
        import json, struct, sys, zlib
        data = open(sys.argv[1], "rb").read()
        pos, idat, ihdr = 8, b"", None
        while pos < len(data):
            length, kind = struct.unpack(">I4s", data[pos:pos + 8]); body = data[pos + 8:pos + 8 + length]; pos += 12 + length
            if kind == b"IHDR": ihdr = struct.unpack(">IIBBBBB", body)
            elif kind == b"IDAT": idat += body
        width, height, depth, ctype = ihdr[0], ihdr[1], ihdr[2], ihdr[3]
        assert depth == 8 and ctype in (2, 6), ihdr
        bpp = 3 if ctype == 2 else 4
        raw, stride, prev, counts = zlib.decompress(idat), width * bpp, bytearray(width * bpp), {c: 0 for c in sys.argv[2:]}
        wanted = {bytes.fromhex(c): c for c in sys.argv[2:]}
        for y in range(height):
            f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0; b = prev[i]; c = prev[i - bpp] if i >= bpp else 0
                if f == 1: line[i] = (line[i] + a) & 255
                elif f == 2: line[i] = (line[i] + b) & 255
                elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
                elif f == 4:
                    p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
            for x in range(0, stride, bpp):
                name = wanted.get(bytes(line[x:x + 3]))
                if name: counts[name] += 1
            prev = line
        print(json.dumps(counts))
        """#
        let text = try output(["python3", "-c", script, png.path] + colours)
        guard let counts = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Int] else {
            throw TestFailure("the screenshot \(png.path) could not be decoded: \(text)")
        }
        return counts
    }
}
