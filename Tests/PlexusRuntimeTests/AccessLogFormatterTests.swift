import Foundation
@testable import PlexusRuntime
import XCTest

/// The access log's formats, over hostile values: nothing a client sends may end a line, forge a
/// field, break the JSON or leak a credential from the query.
final class AccessLogFormatterTests: XCTestCase {
    private let hostileAgent: [UInt8] = Array("evil\" status=999\nforged=1\r\t\u{01}\\".utf8) + [0xFF, 0xC0, 0xAF, 0xED, 0xA0, 0x80] + Array("é".utf8)

    private func line(_ format: AccessLogSettings.Format, target: String = "/api/v1/hello/x?page=2", agent: [UInt8]? = nil,
                      subject: String? = nil, rawTarget: [UInt8]? = nil, targetIsPlainPath: Bool = false) -> [UInt8] {
        var formatter = AccessLogFormatter(format: format)
        var out: [UInt8] = []
        let targetBytes = rawTarget ?? Array(target.utf8)
        targetBytes.withUnsafeBytes { target in
            (agent ?? []).withUnsafeBytes { agentBytes in
                let record = AccessRecord(time: timespec(tv_sec: 1_765_000_000, tv_nsec: 123_456_789), method: "GET", target: target, httpMinor: 1,
                                          status: 200, bytes: 1234, durationMicroseconds: 56, requestID: "req-1", peer: "127.0.0.1:5555",
                                          peerIP: "127.0.0.1", plugin: "hello", route: "/api/v1/hello/:name", tenant: nil, subject: subject,
                                          userAgent: agent == nil ? nil : agentBytes, referer: nil, targetIsPlainPath: targetIsPlainPath)
                formatter.append(record, to: &out)
            }
        }
        return out
    }

    private func assertOneLine(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(bytes.last, UInt8(ascii: "\n"), file: file, line: line)
        XCTAssertEqual(bytes.filter { $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") }.count, 1, String(decoding: bytes, as: UTF8.self), file: file, line: line)
        XCTAssertFalse(bytes.dropLast().contains { $0 < 0x20 }, "a raw control byte: \(bytes)", file: file, line: line)
    }

    func testKeyValueQuotesAndEscapesHostileValues() {
        let bytes = line(.kv, agent: hostileAgent)
        assertOneLine(bytes)
        XCTAssertFalse(bytes.contains { $0 >= 0x7F }, "bytes from 0x7F up are escaped in key=value")
        let text = String(decoding: bytes, as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("time=2025-12-06T05:46:40.123Z method=GET target=/api/v1/hello/x?page=2 status=200 bytes=1234 duration_us=56 "
                                     + "request_id=req-1 peer=127.0.0.1:5555 plugin=hello route=/api/v1/hello/:name tenant=- subject=- user_agent=\""), text)
        XCTAssertTrue(text.hasSuffix(#"user_agent="evil\" status=999\nforged=1\r\t\x01\\\xFF\xC0\xAF\xED\xA0\x80\xC3\xA9""# + "\n"), text)
    }

    func testJSONLinesStayValidJSONWhateverTheBytes() throws {
        let bytes = line(.json, agent: hostileAgent, subject: "user \"x\"")
        assertOneLine(bytes)
        XCTAssertNotNil(String(validatingUTF8: bytes.map { CChar(bitPattern: $0) } + [0]), "the line is valid UTF-8")
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        XCTAssertEqual(object["status"] as? Int, 200)
        XCTAssertEqual(object["bytes"] as? Int, 1234)
        XCTAssertEqual(object["duration_us"] as? Int, 56)
        XCTAssertEqual(object["time"] as? String, "2025-12-06T05:46:40.123Z")
        XCTAssertEqual(object["target"] as? String, "/api/v1/hello/x?page=2")
        XCTAssertEqual(object["route"] as? String, "/api/v1/hello/:name")
        XCTAssertEqual(object["subject"] as? String, "user \"x\"")
        XCTAssertTrue(object["tenant"] is NSNull)
        XCTAssertEqual(object["user_agent"] as? String, "evil\" status=999\nforged=1\r\t\u{01}\\" + String(repeating: "\u{FFFD}", count: 6) + "é")
    }

    func testCombinedFormatEscapesLikeNginx() {
        let bytes = line(.combined, agent: hostileAgent, subject: "alice")
        assertOneLine(bytes)
        let text = String(decoding: bytes, as: UTF8.self)
        XCTAssertEqual(text, #"127.0.0.1 - alice [06/Dec/2025:05:46:40 +0000] "GET /api/v1/hello/x?page=2 HTTP/1.1" 200 1234 "-" "#
                       + #""evil\x22 status=999\x0Aforged=1\x0D\x09\x01\x5C\xFF\xC0\xAF\xED\xA0\x80\xC3\xA9""# + "\n")
    }

    func testAHostileTargetStaysInsideItsFieldInEveryFormat() throws {
        let target: [UInt8] = Array("/a\"b c\n".utf8) + [0xFF, 0x01] + Array("\\?q=\"x\"&ticket=\u{7F}secret".utf8)
        let kv = line(.kv, rawTarget: target)
        assertOneLine(kv)
        XCTAssertTrue(String(decoding: kv, as: UTF8.self).contains(#" target="/a\"b c\n\xFF\x01\\?q=\"x\"&ticket=REDACTED" status=200"#),
                      String(decoding: kv, as: UTF8.self))
        let json = line(.json, rawTarget: target)
        assertOneLine(json)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json)) as? [String: Any])
        XCTAssertEqual(object["target"] as? String, "/a\"b c\n\u{FFFD}\u{01}\\?q=\"x\"&ticket=REDACTED")
        let combined = line(.combined, rawTarget: target)
        assertOneLine(combined)
        XCTAssertTrue(String(decoding: combined, as: UTF8.self).contains(#""GET /a\x22b c\x0A\xFF\x01\x5C?q=\x22x\x22&ticket=REDACTED HTTP/1.1" 200"#),
                      String(decoding: combined, as: UTF8.self))
    }

    func testAPlainPathIsLoggedAsSentAndStillEscaped() throws {
        func plain(_ text: [UInt8]) -> Bool { text.withUnsafeBytes { AccessLogTarget.isPlainPath($0) } }
        XCTAssertTrue(plain(Array("/api/v1/hello".utf8)))
        XCTAssertFalse(plain(Array("/a?ticket=x".utf8)) || plain(Array("/a#f".utf8)) || plain(Array("*".utf8))
                       || plain(Array("http://h/a".utf8)) || plain([]))
        // No query: the path goes straight to the escaping, which still keeps it in its field.
        let target: [UInt8] = Array("/a\"b c\n".utf8) + [0xFF, 0x01] + Array("\\".utf8)
        XCTAssertTrue(plain(target))
        let combined = line(.combined, rawTarget: target)
        assertOneLine(combined)
        XCTAssertTrue(String(decoding: combined, as: UTF8.self).contains(#""GET /a\x22b c\x0A\xFF\x01\x5C HTTP/1.1" 200"#),
                      String(decoding: combined, as: UTF8.self))
        let json = line(.json, rawTarget: target)
        assertOneLine(json)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json)) as? [String: Any])
        XCTAssertEqual(object["target"] as? String, "/a\"b c\n\u{FFFD}\u{01}\\")
        let kv = String(decoding: line(.kv, rawTarget: target), as: UTF8.self)
        XCTAssertTrue(kv.contains(#" target="/a\"b c\n\xFF\x01\\" status=200"#), kv)
    }

    /// A target flagged plain (`RequestContext.targetIsPlainPath`: the parser admitted it as an
    /// origin-form path and it has no `?`) is logged without a scan: that is only right if no byte
    /// the parser admits in a path is one the combined format escapes. Every byte value is tried.
    func testEveryPathThePlainFlagCanCoverIsLoggedTheSameWithoutEscaping() throws {
        var admitted = 0
        for byte in 0...255 {
            for bytes in [[UInt8(ascii: "/"), UInt8(ascii: "a"), UInt8(byte)], [UInt8(ascii: "/"), UInt8(byte), UInt8(ascii: "/")],
                          Array("/%41".utf8) + [UInt8(byte)]] {
                let parsed = try? bytes.withUnsafeBytes { try RequestTarget.parse($0, method: "GET") }
                guard let parsed, parsed.form == .origin, parsed.rawPath.utf8.count == bytes.count else { continue }
                admitted += 1
                for format in [AccessLogSettings.Format.combined, .kv, .json] {
                    XCTAssertEqual(line(format, rawTarget: bytes, targetIsPlainPath: true), line(format, rawTarget: bytes),
                                   "\(format) \(bytes)")
                }
            }
        }
        // The unreserved characters, the sub-delimiters and a few more: enough to mean something.
        XCTAssertGreaterThan(admitted, 150)
        // A query, even an empty one, is never plain.
        for target in ["/a?", "/a?ticket=x"] {
            let parsed = try Array(target.utf8).withUnsafeBytes { try RequestTarget.parse($0, method: "GET") }
            XCTAssertNotEqual(parsed.rawPath.utf8.count, target.utf8.count, target)
        }
    }

    func testCredentialsInTheQueryAreRedactedInEveryFormat() {
        let target = "/api/v1/x?ticket=S1&page=2&Access_Token=S2&%61pi_key=S3&API-Key=S4&X-Amz-Signature=S5&author=me&password&key=S6"
        for format in AccessLogSettings.Format.allCases {
            let text = String(decoding: line(format, target: target), as: UTF8.self)
            for secret in ["S1", "S2", "S3", "S4", "S5", "S6"] { XCTAssertFalse(text.contains(secret), "\(format) leaks \(secret): \(text)") }
            XCTAssertTrue(text.contains("/api/v1/x?ticket=REDACTED&page=2&Access_Token=REDACTED&%61pi_key=REDACTED&API-Key=REDACTED"
                                        + "&X-Amz-Signature=REDACTED&author=me&password&key=REDACTED"), "\(format): \(text)")
        }
    }

    func testAbsoluteFormTargetLosesItsAuthorityAndAFragmentIsDropped() {
        func logged(_ target: String) -> String {
            var out: [UInt8] = [], scratch: [UInt8] = []
            Array(target.utf8).withUnsafeBytes { AccessLogTarget.append($0, to: &out, name: &scratch) }
            return String(decoding: out, as: UTF8.self)
        }
        XCTAssertEqual(logged("http://user:pass@example.com/a/b?token=t&q=1"), "/a/b?token=REDACTED&q=1")
        XCTAssertEqual(logged("http://user:pass@example.com"), "/")
        XCTAssertEqual(logged("http://example.com?code=c"), "/?code=REDACTED")
        XCTAssertEqual(logged("/a#frag?ticket=t"), "/a")
        XCTAssertEqual(logged("/a?"), "/a?")
        XCTAssertEqual(logged("/a?&&=x&ticket"), "/a?&&=x&ticket")
        XCTAssertEqual(logged("*"), "*")
    }

    func testNumbersAndTimesAreWrittenWithoutFoundation() {
        var out: [UInt8] = []
        for value: UInt64 in [0, 7, 10, 99, 100, 1_234_567, UInt64.max] {
            out.removeAll()
            AccessLogFormatter.decimal(value, &out)
            XCTAssertEqual(String(decoding: out, as: UTF8.self), "\(value)")
        }
        var clock = AccessLogClock()
        clock.update(seconds: 0)
        XCTAssertEqual(String(decoding: clock.iso, as: UTF8.self), "1970-01-01T00:00:00")
        XCTAssertEqual(String(decoding: clock.combined, as: UTF8.self), "01/Jan/1970:00:00:00 +0000")
    }

    func testWriterWritesEveryRecordToAFileBeforeFinishing() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("access-\(UUID().uuidString).log").path
        defer { unlink(path) }
        let ring = try AccessLogRing(capacity: 1 << 20)
        let writer = AccessLogWriter(sink: .file(path), ring: ring, logger: .init(label: "test"))
        var expected: [UInt8] = []
        for index in 0..<100 {
            let line = Array("line \(index)\n".utf8)
            expected += line
            XCTAssertTrue(line.withUnsafeBytes { ring.append($0) })
            if index % 10 == 9 { writer.wake() }
        }
        XCTAssertEqual(writer.finish(timeout: 10), 0)
        XCTAssertEqual(Array(try Data(contentsOf: URL(fileURLWithPath: path))), expected)
        XCTAssertEqual(ring.unwritten, 0)
    }

    func testRingRefusesRecordsBeyondItsBoundInsteadOfBlocking() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("access-\(UUID().uuidString).fifo").path
        XCTAssertEqual(mkfifo(path, 0o600), 0)
        defer { unlink(path) }
        // No reader: the writer thread blocks opening the FIFO; the loop's side must not.
        let ring = try AccessLogRing(capacity: 4096)
        let writer = AccessLogWriter(sink: .file(path), ring: ring, logger: .init(label: "test"))
        var accepted = 0, refused = 0
        let record = [UInt8](repeating: UInt8(ascii: "x"), count: 999) + [0x0A]
        for _ in 0..<20 {
            if record.withUnsafeBytes({ ring.append($0) }) { accepted += 1 } else { refused += 1 }
            writer.wake()
        }
        XCTAssertEqual(accepted, 4)
        XCTAssertEqual(refused, 16)
        XCTAssertEqual(writer.finish(timeout: 0.2), 4, "the records still held count as not written")
        // A reader at last: the thread opens the FIFO, writes what it held and ends.
        let reader = open(path, O_RDONLY | O_NONBLOCK)
        XCTAssertEqual(writer.finish(timeout: 10), 0)
        close(reader)
    }

    /// One huge record grows the formatter's line buffer; the next ordinary one shrinks it back,
    /// so a single 64 KiB User-Agent does not keep ~400 KiB per worker.
    func testTheLineBufferShrinksBackAfterAHugeRecord() {
        var formatter = AccessLogFormatter(format: .json)
        func append(agent: [UInt8]) -> [UInt8] {
            var out: [UInt8] = []
            Array("/x".utf8).withUnsafeBytes { target in
                agent.withUnsafeBytes { agentBytes in
                    let record = AccessRecord(time: timespec(tv_sec: 1_765_000_000, tv_nsec: 0), method: "GET", target: target, httpMinor: 1,
                                              status: 200, bytes: 1, durationMicroseconds: 1, requestID: "r", peer: "127.0.0.1:1",
                                              peerIP: "127.0.0.1", plugin: nil, route: nil, tenant: nil, subject: nil,
                                              userAgent: agentBytes, referer: nil)
                    formatter.append(record, to: &out)
                }
            }
            return out
        }
        XCTAssertEqual(formatter.lineBufferCapacity, AccessLogFormatter.keptLineBytes)
        let huge = append(agent: [UInt8](repeating: 0x01, count: 64 * 1024))
        XCTAssertGreaterThan(formatter.lineBufferCapacity, AccessLogFormatter.shrinkAboveBytes)
        XCTAssertGreaterThan(huge.count, 64 * 1024 * 6, "written whole, every control byte escaped")
        XCTAssertTrue(String(decoding: huge, as: UTF8.self).contains("\\u0001"))
        let small = append(agent: Array("curl".utf8))
        XCTAssertEqual(formatter.lineBufferCapacity, AccessLogFormatter.keptLineBytes)
        XCTAssertTrue(String(decoding: small, as: UTF8.self).contains("curl"))
    }
}
