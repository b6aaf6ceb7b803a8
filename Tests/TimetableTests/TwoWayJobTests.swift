import Foundation
import PlexusSDK
import PlexusTesting
import PlexusTimetable
import XCTest

/// A job's whole life, one test body run in-process (`TestHost`: the plugin type in this process,
/// its solver off the test loop, its store in a real in-memory SQLite) and live (the built
/// library in the real runtime): submit, poll, read a feasible result, and the tenant wall.
final class TwoWayJobTests: XCTestCase {
    static let acme = TestCaller("acme-planner", tenant: "acme")
    static let globex = TestCaller("globex-planner", tenant: "globex")

    func testJobInProcess() async throws {
        let host = try await TestHost.start(TimetablePlugin.self)
        try await job(host)
        let finished = await host.events(matching: "timetable.job.finished")
        XCTAssertEqual(finished.count, 1, "one durable finished event")
        XCTAssertEqual(finished.first?.tenant, "acme")
        await host.stop()
    }

    func testJobLive() async throws {
        let runtime = try TimetableHarness.start()
        try await job(LiveTestClient(runtime: runtime))
        XCTAssertEqual(runtime.stop(), 0)
    }

    func job(_ client: some PluginTestClient) async throws {
        let body: [String: AnyEncodable] = ["format": .text("itc2007"), "instance": .text(Instances.small),
                                            "time_limit_seconds": .number(1), "seed": .number(7)]
        let anonymous = try await client.send(.post, TimetableHarness.jobs, json: body)
        XCTAssertEqual(anonymous.status, 401)
        let accepted = try await client.send(.post, TimetableHarness.jobs, json: body, caller: Self.acme)
        XCTAssertEqual(accepted.status, 202, accepted.text)
        let id = try XCTUnwrap(try TimetableHarness.json(accepted)["id"] as? String)
        XCTAssertEqual(accepted.header("Location"), "\(TimetableHarness.jobs)/\(id)")

        var state = ""
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            state = try TimetableHarness.json(try await client.get("\(TimetableHarness.jobs)/\(id)", caller: Self.acme))["status"] as? String ?? ""
            if !["queued", "running"].contains(state) { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        XCTAssertEqual(state, "succeeded")
        let result = try TimetableHarness.json(try await client.get("\(TimetableHarness.jobs)/\(id)/result", caller: Self.acme))
        let placements = try TimetableHarness.placements(result)
        XCTAssertEqual(placements.count, 11)
        XCTAssertEqual(try CheckModel(ctt: Instances.small).hardViolations(placements), [])

        // Another tenant does not see the job.
        let foreign = try await client.get("\(TimetableHarness.jobs)/\(id)", caller: Self.globex)
        XCTAssertEqual(foreign.status, 404, foreign.text)
        let bad = try await client.send(.post, TimetableHarness.jobs, json: ["format": AnyEncodable.text("itc2007"), "instance": .text("nonsense")],
                                        caller: Self.acme)
        XCTAssertTrue((400..<500).contains(bad.status), "\(bad.status) \(bad.text)")
    }
}

/// A JSON value for request bodies of mixed types.
enum AnyEncodable: Encodable {
    case text(String)
    case number(Double)

    func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .text(let text): try container.encode(text)
        case .number(let number): try container.encode(number)
        }
    }
}
