import Foundation
import XCTest
@testable import PlexusEventLog

/// A clock tests move by hand.
final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var now: Date

    init(_ start: Date = Date(timeIntervalSince1970: 1_700_000_000)) { now = start }

    var date: Date { lock.lock(); defer { lock.unlock() }; return now }

    func advance(_ seconds: Double) { lock.lock(); now = now.addingTimeInterval(seconds); lock.unlock() }

    var function: @Sendable () -> Date { { self.date } }
}

/// A fresh temporary directory, removed at the end of the test.
func temporaryDirectory(_ test: XCTestCase) -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("eventlog-tests-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

/// Calls an asynchronous log method and waits (up to 30 s) for its completion.
func waitFor<T: Sendable>(
    file: StaticString = #filePath, line: UInt = #line,
    _ call: (@escaping @Sendable (Result<T, EventLogError>) -> Void) -> Void
) throws -> T {
    let done = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var outcome: Result<T, EventLogError>?
    call { result in
        outcome = result
        done.signal()
    }
    guard done.wait(timeout: .now() + 30) == .success else {
        XCTFail("completion not called within 30 s", file: file, line: line)
        throw EventLogError.closed
    }
    return try outcome!.get()
}

/// Waits for a call expected to fail and returns its error.
func awaitError<T: Sendable>(
    file: StaticString = #filePath, line: UInt = #line,
    _ call: (@escaping @Sendable (Result<T, EventLogError>) -> Void) -> Void
) -> EventLogError? {
    do {
        _ = try waitFor(file: file, line: line, call)
        XCTFail("expected an error", file: file, line: line)
        return nil
    } catch let error as EventLogError {
        return error
    } catch {
        XCTFail("unexpected error \(error)", file: file, line: line)
        return nil
    }
}

extension EventLog {
    @discardableResult
    func appendSync(_ topic: String, _ text: String = "x") throws -> AppendReceipt {
        try waitFor { append(EventEnvelope(topic: topic, source: "tests", payload: Data(text.utf8)), completion: $0) }
    }

    func closeSync() {
        _ = try? waitFor { close(completion: $0) }
    }
}

func pattern(_ text: String) -> TopicPattern { try! TopicPattern(text) }
