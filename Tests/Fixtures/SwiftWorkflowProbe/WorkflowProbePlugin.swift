import Foundation
import PlexusSDK

/// A test fixture offering bus services for workflow tests and the workflows benchmark:
/// - `wfprobe.noop`: answers `{"ok": true}` at once;
/// - `wfprobe.do`: takes `{"tag", "idempotency_key", "sleep_ms", "fail", "garbage"}`; appends
///   `start <tag> <key>` to `call_log` (a file from its config) before it works and
///   `done <tag> <key>` after, sleeps `sleep_ms`, then fails (`fail`), answers bytes that are not
///   JSON (`garbage`), or answers `{"tag", "key", "calls"}` (calls: how often this key came);
/// - `POST /api/v1/wfprobe/raw?instances=N&steps=S` (bench/workflows.sh's peer): N instances at once,
///   each S steps of "append a row, call `wfprobe.noop`, append a row" in this plugin's SQLite
///   storage, with no workflow engine; answers `{"instances", "steps", "seconds"}`.
@PluginActor
final class WorkflowProbePlugin: Plugin {
    static let manifest = PluginManifest(name: "wfprobe", version: "1.0.0", description: "fixture: services for workflow tests")

    private var calls: [String: Int] = [:]

    init(context: PluginContext) throws {
        let log = context.config["call_log"]
        try context.services.register("wfprobe.noop") { _ in Array(#"{"ok":true}"#.utf8) }
        try context.services.register("wfprobe.do") { [unowned self] payload in
            let object = (try? JSONSerialization.jsonObject(with: Data(payload))) as? [String: Any] ?? [:]
            let tag = object["tag"] as? String ?? "-"
            let key = object["idempotency_key"] as? String ?? "-"
            calls[key, default: 0] += 1
            let count = calls[key]!
            if let log { try await Self.append("start \(tag) \(key)\n", to: log, context) }
            if let milliseconds = object["sleep_ms"] as? Int, milliseconds > 0 { await context.sleep(for: .milliseconds(milliseconds)) }
            if let log { try await Self.append("done \(tag) \(key)\n", to: log, context) }
            if object["fail"] as? Bool == true { throw ProbeFailure(description: "probe step '\(tag)' was asked to fail") }
            if object["garbage"] as? Bool == true { return Array("<html>not json".utf8) }
            return Array(try JSONSerialization.data(withJSONObject: ["tag": tag, "key": key, "calls": count], options: [.sortedKeys]))
        }
        try context.routes.post("/api/v1/wfprobe/raw", options: RouteOptions(summary: "bench peer: hand-written durable steps")) { request async throws in
            try await Self.raw(request, context)
        }
    }

    /// The benchmark peer: the same durable steps as a workflow, written by hand.
    static func raw(_ request: Request, _ context: PluginContext) async throws -> Response {
        let instances = try request.query.require("instances", as: Int.self), steps = try request.query.require("steps", as: Int.self)
        guard (1...10_000).contains(instances), (1...20).contains(steps) else { throw HTTPError.badRequest("instances 1 to 10000, steps 1 to 20") }
        try await context.storage.migrate([(1, "CREATE TABLE raw_history (instance TEXT NOT NULL, seq INTEGER NOT NULL, entry TEXT NOT NULL, PRIMARY KEY (instance, seq))")])
        let run = String(UUID().uuidString.prefix(8))
        var clock = timespec()
        clock_gettime(CLOCK_MONOTONIC, &clock)
        let started = Double(clock.tv_sec) + Double(clock.tv_nsec) / 1e9
        let tasks = (0..<instances).map { n in
                Task { @PluginActor in
                    let id = "\(run)-\(n)"
                    for step in 0..<steps {
                        try await context.storage.execute("INSERT INTO raw_history (instance, seq, entry) VALUES (?, ?, ?)",
                                                          [.text(id), .integer(Int64(step * 2)), .text(#"{"kind":"step.scheduled","step":"s\#(step)"}"#)])
                        let reply = try await context.services.call("wfprobe.noop", payload: Array(#"{"idempotency_key":"\#(id):\#(step)"}"#.utf8))
                        try await context.storage.execute("INSERT INTO raw_history (instance, seq, entry) VALUES (?, ?, ?)",
                                                          [.text(id), .integer(Int64(step * 2 + 1)), .text(String(decoding: reply, as: UTF8.self))])
                    }
                }
        }
        for task in tasks { try await task.value }
        clock_gettime(CLOCK_MONOTONIC, &clock)
        let seconds = Double(clock.tv_sec) + Double(clock.tv_nsec) / 1e9 - started
        return try .json(["instances": Double(instances), "steps": Double(instances * steps), "seconds": seconds])
    }

    static func append(_ line: String, to path: String, _ context: PluginContext) async throws {
        let bytes = Array(line.utf8)
        try await context.offLoop {
            let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            guard fd >= 0 else { throw ProbeFailure(description: "cannot open \(path)") }
            defer { close(fd) }
            _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        }
    }
}

struct ProbeFailure: Error, CustomStringConvertible {
    let description: String
}

@_cdecl("plexus_plugin_entry_v1")
public func plexusPluginEntry(_ host: UnsafeRawPointer?) -> UnsafeRawPointer? {
    PluginExport.descriptor(for: WorkflowProbePlugin.self, host: host)
}
