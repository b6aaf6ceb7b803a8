import Foundation
import PlexusTesting
import XCTest

/// Comparisons run on the runtime's thread pool: a slow one does not hold up the loop.
final class OffLoopTests: XCTestCase {
    func testASlowComparisonDoesNotBlockOtherRequests() throws {
        let plexus = try DocCompareHarness.start()
        // Two random strings over {a, b}: a character-level Myers diff with a large edit distance (seconds in debug).
        var generator = SystemRandomNumberGenerator()
        func random(_ count: Int) -> String { String((0..<count).map { _ in Bool.random(using: &generator) ? "a" : "b" }) }
        let heavy: [String: Any] = ["old": ["text": random(19_000)], "new": ["text": random(19_000)],
                                    "granularity": "character", "detect_moves": false]
        let body = [UInt8](try JSONSerialization.data(withJSONObject: heavy))
        let port = plexus.port, outcome = Outcome(), auth = plexus.authorized("")
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            let response = try? TestClient.request("POST", DocCompareHarness.compare, port: port,
                                                   headers: "Content-Type: application/json\r\n" + auth, body: body)
            outcome.record(status: response?.status ?? -1)
            done.signal()
        }
        usleep(300_000)
        let small = try DocCompareHarness.postJSON(plexus, ["old": ["text": "a\n"], "new": ["text": "b\n"]])
        let smallFinished = Date()
        XCTAssertEqual(small.status, 200)
        XCTAssertEqual(done.wait(timeout: .now() + 60), .success)
        let (heavyStatus, heavyFinished) = outcome.value
        XCTAssertEqual(heavyStatus, 200)
        XCTAssertLessThan(smallFinished, heavyFinished, "the small request waited for the slow comparison")
    }
}

/// The slow request's status and completion time, written by the background thread.
private final class Outcome: @unchecked Sendable {
    private let lock = NSLock()
    private var status = 0, finished = Date.distantFuture
    func record(status: Int) { lock.withLock { self.status = status; finished = Date() } }
    var value: (Int, Date) { lock.withLock { (status, finished) } }
}
