import Foundation
import PlexusTesting
import XCTest

/// Build products, a running plexus with only the timetable plugin, and request helpers.
enum TimetableHarness {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// `$PLEXUS_BIN_DIR`, else this worktree's `.build/debug`.
    static let binDirectory = URL(fileURLWithPath: ProcessInfo.processInfo.environment["PLEXUS_BIN_DIR"]
        ?? root.appendingPathComponent(".build/debug").path)

    /// The jobs route.
    static let jobs = "/api/v1/timetable/jobs"

    /// Starts plexus over `libPlexusTimetable.so` with `plugins.d/timetable.toml` = `config`.
    /// With `workDirectory`, reuses that directory's data (a restart on the same storage).
    static func start(config: String = "", workDirectory: URL? = nil, extra: String = "") throws -> TestRuntime {
        let binary = binDirectory.appendingPathComponent("plexus")
        let plugin = binDirectory.appendingPathComponent("libPlexusTimetable.so")
        for file in [binary, plugin] where !FileManager.default.fileExists(atPath: file.path) {
            throw TestFailure("no \(file.path): run `swift build` first (or set PLEXUS_BIN_DIR)")
        }
        return try TestRuntime(binary: binary, plugins: [plugin], pluginConfigs: ["timetable": config], extra: extra, workDirectory: workDirectory)
    }

    /// The ITC2007 data folder (`<repo>/../shared/datasets/itc2007-cbctt` or a parent's `shared/`), if present.
    static func datasetDirectory() -> URL? {
        var candidates: [URL] = []
        let here = URL(fileURLWithPath: #filePath)
        for start in [here, here.resolvingSymlinksInPath()] {
            var dir = start.deletingLastPathComponent()
            for _ in 0..<7 {
                candidates.append(dir.appendingPathComponent("shared/datasets/itc2007-cbctt"))
                dir = dir.deletingLastPathComponent()
            }
        }
        candidates.append(URL(fileURLWithPath: "/work/shared/datasets/itc2007-cbctt"))
        return candidates.first { FileManager.default.fileExists(atPath: $0.appendingPathComponent("comp01.ctt").path) }
    }

    /// comp01's text, if the data set is present (set `TIMETABLE_TESTS_NO_DATASET=1` to act as if it were not).
    static func comp01() -> String? {
        if ProcessInfo.processInfo.environment["TIMETABLE_TESTS_NO_DATASET"] == "1" { return nil }
        guard let dir = datasetDirectory() else { return nil }
        return try? String(contentsOf: dir.appendingPathComponent("comp01.ctt"), encoding: .utf8)
    }

    /// POSTs a JSON object to the jobs route.
    static func postJSON(_ runtime: TestRuntime, _ object: [String: Any]) throws -> TestResponse {
        try postJSON(runtime, jobs, object)
    }

    /// POSTs a JSON object to `path`.
    static func postJSON(_ runtime: TestRuntime, _ path: String, _ object: [String: Any]) throws -> TestResponse {
        let body = try JSONSerialization.data(withJSONObject: object)
        return try runtime.request("POST", path, headers: "Content-Type: application/json\r\n", body: [UInt8](body))
    }

    /// POSTs `.ctt` text as `text/plain`, options in `query`.
    static func postText(_ runtime: TestRuntime, _ text: String, query: String = "") throws -> TestResponse {
        try runtime.request("POST", jobs + (query.isEmpty ? "" : "?\(query)"), headers: "Content-Type: text/plain\r\n", body: Array(text.utf8))
    }

    /// Submits `.ctt` text as JSON and returns the new job id (asserting 202 and `Location`).
    static func submit(_ runtime: TestRuntime, ctt: String, timeLimit: Double = 2, extra: [String: Any] = [:],
                       file: StaticString = #filePath, line: UInt = #line) throws -> String {
        var body: [String: Any] = ["format": "itc2007", "instance": ctt, "time_limit_seconds": timeLimit, "seed": 7]
        body.merge(extra) { $1 }
        return try accepted(try postJSON(runtime, body), file: file, line: line)
    }

    /// Checks a 202 answer and returns the job id.
    static func accepted(_ response: TestResponse, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        XCTAssertEqual(response.status, 202, response.text, file: file, line: line)
        let object = try json(response)
        guard let id = object["id"] as? String else { throw TestFailure("no id in \(response.text)") }
        XCTAssertEqual(response.header("Location"), "\(jobs)/\(id)", file: file, line: line)
        // A small job may already have finished when the answer is written (the handler awaits
        // storage after queueing it); what matters is that it was accepted, not refused.
        XCTAssertTrue(["queued", "running", "succeeded"].contains(object["status"] as? String ?? ""), response.text, file: file, line: line)
        return id
    }

    /// `GET /jobs/<id>` as JSON.
    static func status(_ runtime: TestRuntime, _ id: String) throws -> [String: Any] {
        let response = try runtime.get("\(jobs)/\(id)")
        guard response.status == 200 else { throw TestFailure("status of \(id): \(response.status) \(response.text)") }
        return try json(response)
    }

    /// Polls the job's status until it is finished or `seconds` pass; returns the last status.
    static func waitFinished(_ runtime: TestRuntime, _ id: String, seconds: Double = 20) throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let object = try status(runtime, id)
            let state = object["status"] as? String ?? ""
            if !["queued", "running"].contains(state) { return object }
            guard Date() < deadline else { throw TestFailure("job \(id) still \(state) after \(seconds) s") }
            usleep(50_000)
        }
    }

    /// Polls until the job is `running` (or finished); returns the last status.
    static func waitRunning(_ runtime: TestRuntime, _ id: String, seconds: Double = 10) throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let object = try status(runtime, id)
            if object["status"] as? String != "queued" { return object }
            guard Date() < deadline else { throw TestFailure("job \(id) still queued after \(seconds) s") }
            usleep(20_000)
        }
    }

    /// `GET /jobs/<id>/result` as JSON (asserting 200).
    static func result(_ runtime: TestRuntime, _ id: String, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        let response = try runtime.get("\(jobs)/\(id)/result")
        XCTAssertEqual(response.status, 200, response.text, file: file, line: line)
        return try json(response)
    }

    /// The result's placements as checker placements.
    static func placements(_ result: [String: Any]) throws -> [CheckPlacement] {
        guard let list = result["placements"] as? [[String: Any]] else { throw TestFailure("no placements in result") }
        return try list.map {
            guard let course = $0["course"] as? String, let room = $0["room"] as? String,
                  let day = $0["day"] as? Int, let period = $0["period"] as? Int else { throw TestFailure("bad placement \($0)") }
            return CheckPlacement(course: course, room: room, day: day, period: period)
        }
    }

    /// The response body as a JSON object.
    static func json(_ response: TestResponse) throws -> [String: Any] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] else {
            throw TestFailure("not a JSON object (\(response.status)): \(response.text.prefix(500))")
        }
        return object
    }

    /// Asserts an RFC 9457 problem with `status` whose detail contains every one of `fragments`; returns the body.
    @discardableResult
    static func assertProblem(_ response: TestResponse, status: Int, _ fragments: [String],
                              file: StaticString = #filePath, line: UInt = #line) -> [String: Any] {
        XCTAssertEqual(response.status, status, response.text, file: file, line: line)
        XCTAssertEqual(response.header("Content-Type"), "application/problem+json", file: file, line: line)
        let object = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
        let detail = object["detail"] as? String ?? ""
        XCTAssertEqual(object["status"] as? Int, status, file: file, line: line)
        for fragment in fragments {
            XCTAssertTrue(detail.contains(fragment), "detail '\(detail)' lacks '\(fragment)'", file: file, line: line)
        }
        return object
    }
}

/// A test class whose tests share one running plexus with the timetable plugin.
class TimetableTestCase: XCTestCase {
    private static var runtimes: [ObjectIdentifier: TestRuntime] = [:]

    override class func setUp() {
        super.setUp()
        runtimes[ObjectIdentifier(self)] = try? TimetableHarness.start()
    }

    override class func tearDown() {
        _ = runtimes.removeValue(forKey: ObjectIdentifier(self))?.stop()
        super.tearDown()
    }

    /// The class's shared runtime (started on demand if the class-level start failed, to surface its error).
    func plexus() throws -> TestRuntime {
        if let runtime = Self.runtimes[ObjectIdentifier(type(of: self))] { return runtime }
        return try TimetableHarness.start()
    }
}
