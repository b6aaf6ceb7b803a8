import Foundation
import Logging
@testable import PlexusRuntime
import XCTest

/// `[log] format = "json"`: one JSON object per line that any JSON reader takes back exactly.
final class JSONLogHandlerTests: XCTestCase {
    private final class Lines: @unchecked Sendable {
        private let lock = NSLock()
        private var collected: [String] = []
        func append(_ line: String) { lock.withLock { collected.append(line) } }
        var all: [String] { lock.withLock { collected } }
    }

    private func logger(_ lines: Lines, level: Logger.Level = .info) -> Logger {
        Logger(label: "plexus.test") { label in JSONLogHandler(label: label, logLevel: level) { lines.append($0) } }
    }

    private func object(_ line: String) throws -> [String: Any] {
        XCTAssertTrue(line.hasSuffix("\n"), line)
        XCTAssertEqual(line.filter { $0 == "\n" }.count, 1, "exactly one line: \(line)")
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], line)
    }

    func testEveryFieldIsWrittenAndReadsBackExactly() throws {
        let lines = Lines()
        var log = logger(lines)
        log[metadataKey: "worker"] = "42"
        let hostile = "quote \" backslash \\ newline \n cr \r tab \t nul \u{0} bell \u{7} del \u{7F} sep \u{2028} snow ☃ {\"event\":1}"
        log.notice("\(hostile)", metadata: ["plugin": "\(hostile)", "nested": ["list": ["a", "b\n"], "n": "\(12)"]])
        let line = try XCTUnwrap(lines.all.first)
        let entry = try object(line)
        XCTAssertEqual(entry["level"] as? String, "notice")
        XCTAssertEqual(entry["label"] as? String, "plexus.test")
        XCTAssertEqual(entry["message"] as? String, hostile)
        let metadata = try XCTUnwrap(entry["metadata"] as? [String: Any])
        XCTAssertEqual(metadata["plugin"] as? String, hostile)
        XCTAssertEqual(metadata["worker"] as? String, "42", "the handler's own metadata is merged in")
        let nested = try XCTUnwrap(metadata["nested"] as? [String: Any])
        XCTAssertEqual(nested["list"] as? [String], ["a", "b\n"])
        XCTAssertEqual(nested["n"] as? String, "12")
        let timestamp = try XCTUnwrap(entry["timestamp"] as? String)
        XCTAssertNotNil(timestamp.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"#, options: .regularExpression), timestamp)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let parsed = try XCTUnwrap(formatter.date(from: timestamp), timestamp)
        XCTAssertLessThan(abs(parsed.timeIntervalSinceNow), 3600, "UTC, not local time shifted")
        for control in 0..<0x20 where control != 0x0A {
            XCTAssertFalse(line.unicodeScalars.contains(Unicode.Scalar(UInt8(control))), "raw control character \(control) in \(line)")
        }
    }

    func testCallMetadataWinsAndLevelsBelowTheThresholdAreDropped() throws {
        let lines = Lines()
        var log = logger(lines, level: .warning)
        log[metadataKey: "plugin"] = "handler"
        log.info("dropped")
        log.error("kept", metadata: ["plugin": "call"])
        XCTAssertEqual(lines.all.count, 1)
        let entry = try object(try XCTUnwrap(lines.all.first))
        XCTAssertEqual(entry["message"] as? String, "kept")
        XCTAssertEqual((entry["metadata"] as? [String: Any])?["plugin"] as? String, "call")
        XCTAssertEqual(entry["level"] as? String, "error")
    }

    func testConfigSelectsTheFormatAndRefusesAnUnknownOne() throws {
        let good = FileManager.default.temporaryDirectory.appendingPathComponent("cfg-\(UUID().uuidString).toml")
        try "[log]\nformat = \"json\"\n".write(to: good, atomically: true, encoding: .utf8)
        XCTAssertEqual(try RuntimeConfig(file: good).logFormat, .json)
        XCTAssertEqual(RuntimeConfig().logFormat, .text, "text stays the default")
        let bad = FileManager.default.temporaryDirectory.appendingPathComponent("cfg-\(UUID().uuidString).toml")
        try "[log]\nformat = \"xml\"\n".write(to: bad, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try RuntimeConfig(file: bad)) { error in
            XCTAssertTrue("\(error)".contains("log.format 'xml' is not one of text, json"), "\(error)")
        }
    }
}
