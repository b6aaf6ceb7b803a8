import Foundation
import PlexusTesting
import XCTest

/// What the supervisor shares with its worker is memory, not files (issue 22): the worker maps the
/// counter region's memfd and closes the descriptor, nothing of it is in the data directory, and
/// the ring and counter files earlier versions left there are removed at start, said once.
final class SupervisorSharedMemoryTests: XCTestCase {
    private func waitForLog(_ plexus: TestRuntime, _ pattern: String, seconds: Double = 20) -> String? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let range = plexus.log.range(of: pattern, options: .regularExpression) { return String(plexus.log[range]) }
            usleep(50_000)
        }
        return nil
    }

    func testTheWorkerMapsTheCountersAndOldFilesAreRemovedOnce() throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("plexus-shared-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: work) }
        let data = work.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let leftovers = ["supervisor.4.accesslog", "supervisor.7.counters"], kept = ["supervisor.4.accesslog.old", "notes.txt"]
        for name in leftovers + kept { FileManager.default.createFile(atPath: data.appendingPathComponent(name).path, contents: Data(count: 4096)) }

        let plexus = try Repository.startPlexus(workDirectory: work)
        let started = try XCTUnwrap(waitForLog(plexus, #"generation=1[^\n]*worker=[0-9]+[^\n]*worker started"#), plexus.log)
        let pid = try XCTUnwrap(started.range(of: #"worker=[0-9]+"#, options: .regularExpression).map { String(started[$0].dropFirst("worker=".count)) })
        XCTAssertEqual(try plexus.get("/api/v1/hello/one").status, 200)

        let maps = try String(contentsOfFile: "/proc/\(pid)/maps", encoding: .utf8)
        XCTAssertTrue(maps.contains("/memfd:plexus-counters"), "the worker maps the master's counter region")
        let descriptors = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").compactMap {
            try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\($0)")
        }
        XCTAssertFalse(descriptors.contains { $0.hasPrefix("/memfd:plexus-counters") }, "the worker closed the descriptor once mapped: \(descriptors)")

        let files = Set(try FileManager.default.contentsOfDirectory(atPath: data.path))
        XCTAssertTrue(files.isDisjoint(with: leftovers), "removed at start: \(files)")
        XCTAssertTrue(files.isSuperset(of: kept), "nothing else is removed: \(files)")
        XCTAssertFalse(files.contains { $0.hasSuffix(".counters") || $0.hasSuffix(".accesslog") }, "counters and ring are memory: \(files)")
        let said = #"removed 2 file\(s\) an earlier version left"#
        XCTAssertNotNil(plexus.log.range(of: said, options: .regularExpression), plexus.log)

        // A reload starts a new generation, not a new master: nothing more is said.
        kill(plexus.process.processIdentifier, SIGHUP)
        XCTAssertNotNil(waitForLog(plexus, "reload complete: generation 2 serving"), plexus.log)
        XCTAssertEqual(plexus.log.components(separatedBy: "an earlier version left").count - 1, 1, plexus.log)
        XCTAssertEqual(plexus.stop(), 0)
    }
}
