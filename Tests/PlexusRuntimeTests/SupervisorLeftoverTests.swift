import Foundation
import Logging
@testable import PlexusRuntime
import XCTest

/// Files earlier versions shared with their workers (`supervisor.<n>.accesslog`,
/// `supervisor.<n>.counters`) are removed from the data directory at start, and nothing else is.
final class SupervisorLeftoverTests: XCTestCase {
    /// Collects the messages logged through it.
    private final class Lines: @unchecked Sendable {
        private let lock = NSLock()
        private var stored: [String] = []
        var all: [String] { lock.withLock { stored } }
        func append(_ line: String) { lock.withLock { stored.append(line) } }
    }

    private struct Capture: LogHandler {
        let lines: Lines
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) { lines.append(event.message.description) }
    }

    func testOnlyTheOldRingAndCounterFilesAreRemovedAndSaidOnce() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("leftovers-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let leftovers = ["supervisor.1.accesslog", "supervisor.12.accesslog", "supervisor.3.counters"]
        let kept = ["supervisor.1.record", "supervisor.counters.json", "supervisor.pid", "supervisor..accesslog", "supervisor.x.accesslog",
                    "supervisor.1.accesslog.bak", "old-supervisor.1.accesslog", "supervisor.1.2.accesslog", "supervisor.-1.counters",
                    "supervisor.1.ACCESSLOG", "supervisor.١.accesslog", "access.log", "quarantine.json"]
        for name in leftovers + kept { FileManager.default.createFile(atPath: directory.appendingPathComponent(name).path, contents: Data("x".utf8)) }
        // A directory of the pattern's name is not a file an earlier version left: it stays.
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("supervisor.9.counters"), withIntermediateDirectories: false)

        let lines = Lines()
        let logger = Logger(label: "test") { _ in Capture(lines: lines) }
        XCTAssertEqual(Supervisor.removeLeftovers(in: directory, logger: logger), leftovers.sorted())
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: directory.path))
        XCTAssertEqual(left, Set(kept + ["supervisor.9.counters"]))
        XCTAssertEqual(lines.all.count, 1, "\(lines.all)")
        XCTAssertTrue(lines.all.first?.contains("removed 3 file(s)") == true, "\(lines.all)")
        for name in leftovers { XCTAssertTrue(lines.all.first?.contains(name) == true, "\(name) named: \(lines.all)") }

        XCTAssertEqual(Supervisor.removeLeftovers(in: directory, logger: logger), [], "nothing left to remove")
        XCTAssertEqual(lines.all.count, 1, "a start with nothing to remove says nothing")
        XCTAssertEqual(Supervisor.removeLeftovers(in: directory.appendingPathComponent("missing"), logger: logger), [])
    }
}
