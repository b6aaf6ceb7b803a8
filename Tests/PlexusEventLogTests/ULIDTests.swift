import Foundation
import XCTest
@testable import PlexusEventLog

final class ULIDTests: XCTestCase {
    func testStringRoundTripAndLayout() throws {
        let id = ULID(milliseconds: 1_700_000_000_123, randomHigh: 0xBEEF, randomLow: 0x0123_4567_89AB_CDEF)
        let text = id.description
        XCTAssertEqual(text.count, 26)
        XCTAssertEqual(ULID(text), id)
        XCTAssertEqual(ULID(text.lowercased()), id)
        XCTAssertEqual(id.milliseconds, 1_700_000_000_123)
        XCTAssertNil(ULID("8ZZZZZZZZZZZZZZZZZZZZZZZZZ"), "first character above 7 overflows 128 bits")
        XCTAssertNil(ULID("short"))
        XCTAssertNil(ULID("01ARZ3NDEKTSV4RRFFQ69G5FAU"), "U is not in the Crockford alphabet")
        XCTAssertEqual(ULID.lowerBound(milliseconds: 0).description, "00000000000000000000000000")
        let json = try JSONEncoder().encode([id])
        XCTAssertEqual(try JSONDecoder().decode([ULID].self, from: json), [id])
    }

    func testMonotonicWithinOneMillisecondAndSortable() {
        let clock = ManualClock()
        let generator = ULIDGenerator(clock: clock.function)
        var ids: [ULID] = []
        for step in 0..<2000 {
            ids.append(generator.next())
            if step % 500 == 499 { clock.advance(0.001) }
        }
        XCTAssertEqual(ids, ids.sorted(), "ids compare in mint order")
        XCTAssertEqual(ids.map(\.description), ids.map(\.description).sorted(), "strings sort in mint order")
        XCTAssertEqual(Set(ids).count, ids.count)
        XCTAssertEqual(ids[0].milliseconds, ids[499].milliseconds)
        XCTAssertEqual(ids[1].low &- ids[0].low, 1, "same millisecond increments the random part")
    }

    func testMonotonicWhenClockStepsBackAndAfterFloor() {
        let clock = ManualClock()
        let floor = ULID(milliseconds: UInt64(clock.date.timeIntervalSince1970 * 1000) + 10_000, randomHigh: 5, randomLow: 5)
        let generator = ULIDGenerator(after: floor, clock: clock.function)
        let first = generator.next()
        XCTAssertGreaterThan(first, floor)
        clock.advance(-5)
        XCTAssertGreaterThan(generator.next(), first)
    }

    func testConcurrentMintingIsUniqueAndOrdered() {
        let generator = ULIDGenerator()
        let lock = NSLock()
        nonisolated(unsafe) var all: [ULID] = []
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            var mine: [ULID] = []
            for _ in 0..<1000 { mine.append(generator.next()) }
            XCTAssertEqual(mine, mine.sorted())
            lock.lock(); all.append(contentsOf: mine); lock.unlock()
        }
        XCTAssertEqual(Set(all).count, 8000)
    }
}
