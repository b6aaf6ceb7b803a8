import Foundation
import PlexusTesting
import XCTest

/// `[log] format = "json"`: everything the master and its worker write to stderr is JSON lines.
final class LogFormatTests: XCTestCase {
    func testJSONFormatWritesOneObjectPerLineFromMasterAndWorker() throws {
        let plexus = try Repository.startPlexus(extra: "[log]\nformat = \"json\"\n")
        XCTAssertEqual(try plexus.get("/api/v1/hello/a%22b%0Ac").status, 200)
        XCTAssertEqual(plexus.stop(), 0)
        let lines = plexus.log.split(separator: "\n", omittingEmptySubsequences: true)
        XCTAssertGreaterThan(lines.count, 3, plexus.log)
        var labels = Set<String>(), messages: [String] = [], accessRecords = 0
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            XCTAssertNotNil(object, "not a JSON object: \(line)")
            if object?["request_id"] != nil && object?["status"] != nil {
                accessRecords += 1  // an access record: JSON too, in its own shape
                continue
            }
            if let label = object?["label"] as? String { labels.insert(label) }
            if let message = object?["message"] as? String { messages.append(message) }
            XCTAssertNotNil(object?["timestamp"] as? String, String(line))
            XCTAssertNotNil(object?["level"] as? String, String(line))
            XCTAssertNotNil(object?["metadata"] as? [String: Any], String(line))
        }
        XCTAssertTrue(labels.isSuperset(of: ["plexus", "plexus.supervisor"]), "master and worker both log JSON: \(labels)")
        XCTAssertTrue(messages.contains("ready"), "\(messages)")
        XCTAssertGreaterThan(accessRecords, 0, "the access log follows [log] format = \"json\"")
    }
}
