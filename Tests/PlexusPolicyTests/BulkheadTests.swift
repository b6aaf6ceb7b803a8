import PlexusPolicy
import XCTest

final class BulkheadTests: XCTestCase {
    func testAdmitsUpToTheLimitAndCountsRefusals() throws {
        let bulkhead = try Bulkhead(maxConcurrent: 2)
        XCTAssertTrue(bulkhead.tryEnter())
        XCTAssertTrue(bulkhead.tryEnter())
        XCTAssertFalse(bulkhead.tryEnter())
        XCTAssertFalse(bulkhead.tryEnter())
        XCTAssertEqual(bulkhead.current, 2)
        XCTAssertEqual(bulkhead.available, 0)
        XCTAssertEqual(bulkhead.refusals, 2)
        bulkhead.leave()
        XCTAssertEqual(bulkhead.current, 1)
        XCTAssertTrue(bulkhead.tryEnter())
        XCTAssertEqual(bulkhead.admitted, 3)
    }

    func testUnmatchedLeaveNeverGoesNegative() throws {
        let bulkhead = try Bulkhead(maxConcurrent: 1)
        bulkhead.leave()
        XCTAssertEqual(bulkhead.current, 0)
        XCTAssertEqual(bulkhead.unmatchedLeaves, 1)
        XCTAssertTrue(bulkhead.tryEnter())
        XCTAssertFalse(bulkhead.tryEnter(), "the stray leave did not make room")
    }

    func testMaxConcurrentMustBePositive() {
        XCTAssertThrowsError(try Bulkhead(maxConcurrent: 0)) {
            XCTAssertEqual(($0 as? PolicyError)?.kind, .invalidConfiguration)
        }
    }
}
