import XCTest
@testable import PlexusEventLog

final class TopicTrieTests: XCTestCase {
    /// (pattern, topic, matches)
    let table: [(String, String, Bool)] = [
        ("a.b.c", "a.b.c", true),
        ("a.b.c", "a.b", false),
        ("a.b.c", "a.b.c.d", false),
        ("a.b.c", "a.b.x", false),
        ("a.+.c", "a.b.c", true),
        ("a.+.c", "a.zz.c", true),
        ("a.+.c", "a.c", false),
        ("a.+.c", "a.b.b.c", false),
        ("+", "a", true),
        ("+", "a.b", false),
        ("+.+", "a.b", true),
        ("a.#", "a", true),          // '#' matches zero segments
        ("a.#", "a.b", true),
        ("a.#", "a.b.c.d", true),
        ("a.#", "b.a", false),
        ("a.#", "ab", false),
        ("#", "a", true),
        ("#", "x.y.z", true),
        ("+.b.#", "a.b", true),
        ("+.b.#", "a.b.c", true),
        ("+.b.#", "a.c.b", false),
        ("orders.eu.created", "orders.eu.created", true),
    ]

    func testPatternMatchingTable() {
        for (text, topic, expected) in table {
            XCTAssertEqual(pattern(text).matches(topic), expected, "\(text) vs \(topic)")
        }
    }

    func testTrieMatchesSameAsPatternsTable() {
        var trie = TopicTrie<String>()
        for text in Set(table.map(\.0)) { trie.insert(pattern(text), text) }
        for topic in Set(table.map(\.1)) {
            let expected = Set(table.map(\.0).filter { pattern($0).matches(topic) })
            XCTAssertEqual(Set(trie.matches(topic)), expected, "topic \(topic)")
        }
    }

    func testSeveralValuesAndRemoval() {
        var trie = TopicTrie<Int>()
        trie.insert(pattern("a.b"), 1)
        trie.insert(pattern("a.b"), 2)
        trie.insert(pattern("a.#"), 3)
        XCTAssertEqual(Set(trie.matches("a.b")), [1, 2, 3])
        XCTAssertEqual(trie.removeAll(pattern("a.b")) { $0 == 1 }, 1)
        XCTAssertEqual(Set(trie.matches("a.b")), [2, 3])
        XCTAssertEqual(trie.removeAll(pattern("a.#")) { _ in true }, 1)
        XCTAssertEqual(trie.matches("a.b"), [2])
        XCTAssertEqual(trie.count, 1)
        XCTAssertEqual(trie.matches("nothing.here"), [])
    }

    func testInvalidPatterns() {
        let invalid = ["", "a..b", ".a", "a.", "a.#.b", "#.a", "a+", "a.b#", "a.+x.c", "##"]
        for text in invalid {
            XCTAssertThrowsError(try TopicPattern(text), text) { error in
                XCTAssertEqual(error as? EventLogError, .invalidPattern, text)
                XCTAssertTrue("\(error)".contains("'\(text)'"), "message names the pattern: \(error)")
            }
        }
        for text in ["a", "+", "#", "a.+.#", "a-b_c.d"] {
            XCTAssertNoThrow(try TopicPattern(text), text)
        }
    }

    func testInvalidTopics() {
        for text in ["", "a..b", "a.", "a.+", "a.#", "a.b+"] {
            XCTAssertThrowsError(try Topic.validate(text), text) { error in
                XCTAssertEqual(error as? EventLogError, .invalidTopic, text)
            }
        }
        XCTAssertNoThrow(try Topic.validate("orders.eu.created"))
    }

    func testMatchingCostDoesNotGrowWithUnrelatedSubscriptions() {
        var trie = TopicTrie<Int>()
        trie.insert(pattern("orders.eu.created"), 1)
        trie.insert(pattern("orders.+.created"), 2)
        trie.insert(pattern("orders.#"), 3)
        let (before, visitedBefore) = trie.matchesCountingVisits("orders.eu.created")
        XCTAssertEqual(Set(before), [1, 2, 3])
        for n in 0..<10_000 {
            trie.insert(pattern("tenant\(n).events.+"), 100 + n)
            trie.insert(pattern("orders.region\(n).#"), 20_000 + n)
        }
        let (after, visitedAfter) = trie.matchesCountingVisits("orders.eu.created")
        XCTAssertEqual(Set(after), [1, 2, 3])
        XCTAssertEqual(visitedAfter, visitedBefore, "visited nodes independent of 20,000 unrelated subscriptions")
        XCTAssertLessThanOrEqual(visitedAfter, 6)
    }
}
