import Foundation
import XCTest

/// A test class whose tests start (and restart) the runtime over work directories of their own (removed after
/// each test), and address jobs by id.
class RestartTestCase: XCTestCase {
    private var directories: [URL] = []

    /// The prefix of this class's work directories under the temporary directory.
    class var workDirectoryPrefix: String { "timetable" }

    override func tearDown() {
        for directory in directories { try? FileManager.default.removeItem(at: directory) }
        directories = []
        super.tearDown()
    }

    /// A fresh work directory, removed after the test.
    func workDirectory() -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("\(Self.workDirectoryPrefix)-\(UUID().uuidString.prefix(8))")
        directories.append(directory)
        return directory
    }

    /// The path of job `id`.
    func jobPath(_ id: String) -> String { "\(TimetableHarness.jobs)/\(id)" }
}
