import Foundation
@testable import PlexusStorage
import PostgresTestSupport
import XCTest

/// The change feed's notification payloads (issue 21): the usual layout read by the scanner,
/// anything else by `JSONSerialization`, the same answer either way.
final class ChangePayloadTests: XCTestCase {
    private func scan(_ text: String) -> ChangePayload? { text.withCString { ChangePayload($0) } }
    private func json(_ text: String) -> ChangePayload? { text.withCString { ChangePayload(json: $0) } }

    func testTheTriggersLayoutIsScannedAsJSONReadsIt() {
        let text = #"{"x" : 620845, "t" : "order_lines", "o" : "insert", "r" : -12, "s" : 9223372036854775807}"#
        let expected = ChangePayload(transaction: 620845, table: "order_lines", operation: "insert", row: -12, seq: Int64.max)
        XCTAssertEqual(scan(text), expected)
        XCTAssertEqual(json(text), expected)
        XCTAssertEqual(scan(#"{"t":"é表","o":"delete","x":1,"r":0,"s":2}"#)?.table, "é表", "UTF-8 names, no spaces, any order")
    }

    func testWhatTheScannerDoesNotExpectIsLeftToJSON() {
        let escaped = #"{"x" : 1, "t" : "we\"ird", "o" : "update", "r" : 3, "s" : 4}"#
        XCTAssertNil(scan(escaped), "an escape")
        XCTAssertEqual(json(escaped)?.table, #"we"ird"#)
        XCTAssertNil(scan(#"{"x" : 1.5, "t" : "a", "o" : "insert", "r" : 3, "s" : 4}"#), "a fraction")
        XCTAssertNil(scan(#"{"x" : 99999999999999999999, "t" : "a", "o" : "insert", "r" : 3, "s" : 4}"#), "an overflow")
        XCTAssertNil(scan(#"{"x" : 1, "o" : "insert"}"#), "no table")
        XCTAssertNil(scan(#"{"x" : 1, "t" : "a", "o" : "insert""#), "cut short")
        XCTAssertNil(scan("not json"))
        XCTAssertNil(scan(""))
    }

    /// Through the database: a table whose name needs escaping in JSON still reaches the listener.
    func testAChangeToATableWithAQuoteInItsNameIsReported() async throws {
        let url = try PostgresTestCluster.get().newDatabaseURL()
        let engine = try await StorageEngine.open(pluginName: "payloads", postgres: PostgresSettings(url: url), configuration: testConfiguration())
        let batches = Locked<[[StorageChange]]>([])
        engine.setChangeHandler { batch in batches.withLock { $0.append(batch) } }
        try await engine.setChangeListening(true)
        try await engine.execute(#"CREATE TABLE "we""ird" (id BIGINT PRIMARY KEY)"#)
        try await engine.execute(#"INSERT INTO "we""ird" VALUES (5)"#)
        try await engine.execute("CREATE TABLE plain (id BIGINT PRIMARY KEY)")
        try await engine.execute("INSERT INTO plain VALUES (6)")
        try await waitUntil { batches.current.count == 2 }
        XCTAssertEqual(batches.current, [[StorageChange(table: #"we"ird"#, operation: .insert, rowID: 5)], [StorageChange(table: "plain", operation: .insert, rowID: 6)]])
        await engine.close()
    }
}
