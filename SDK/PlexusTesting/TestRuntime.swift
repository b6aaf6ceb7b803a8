import Foundation

/// The real `plexus` binary, started on an ephemeral loopback port over a private
/// `plugins.d`, for tests of plugins end to end: real loader, real loop, real sockets.
///
/// ```swift
/// let plexus = try TestRuntime(plugins: [builtPluginURL])
/// let response = try plexus.get("/api/v1/hello/world")
/// XCTAssertEqual(response.status, 200)
/// XCTAssertEqual(plexus.stop(), 0)
/// ```
public final class TestRuntime {
    /// The running process.
    public let process = Process()
    /// The scratch directory holding `plugins.d`, `data` and the config file.
    public let workDirectory: URL
    /// The private plugins directory.
    public let pluginsDirectory: URL
    /// The port the runtime listens on (127.0.0.1).
    public private(set) var port = 0
    private let errorPipe = Pipe()
    private let keepWorkDirectory: Bool
    private let logBuffer = LogBuffer()

    /// The admin key the runtime wrote to `data/admin.key` (the admin identity).
    public private(set) var adminKey = ""
    /// The credential `get` and `request` send (as `Authorization: Bearer …`) unless the
    /// request's own headers carry one or it is sent `anonymous`. Default: ``adminKey``.
    public var credential: String?
    /// Picks a credential per request path (e.g. a tenant's key for that tenant's routes); nil
    /// from it falls back to ``credential``.
    public var credentialForPath: ((String) -> String?)?

    /// Everything the runtime has written to stderr so far.
    public var log: String { logBuffer.text }

    /// Whether the log holds `text` within `seconds` (a line written beside an answer may reach
    /// the test's pipe after the answer does).
    public func logEventuallyContains(_ text: String, seconds: Double = 10) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while !log.contains(text) {
            guard Date() < deadline else { return false }
            usleep(20_000)
        }
        return true
    }

    /// Starts plexus over a `plugins.d` holding copies of `plugins`.
    /// - Parameters:
    ///   - binary: the `plexus` executable; default `$PLEXUS_BINARY`, else `plexus` on `PATH`.
    ///   - pluginConfigs: file contents of `plugins.d/<name>.toml`, keyed by plugin name.
    ///   - serverSettings, pluginSettings: TOML lines for the `[server]` and `[plugins]` tables.
    ///   - extra: TOML appended to the config file (other tables).
    ///   - workDirectory: reuse this directory (and its data) instead of a fresh one; it is then kept
    ///     when the runtime goes away, so a test can restart on the same data.
    public init(binary: URL? = nil, plugins: [URL], pluginConfigs: [String: String] = [:],
                serverSettings: String = "", pluginSettings: String = "", extra: String = "", workDirectory: URL? = nil) throws {
        keepWorkDirectory = workDirectory != nil
        self.workDirectory = workDirectory ?? FileManager.default.temporaryDirectory.appendingPathComponent("plexus-test-\(UUID().uuidString.prefix(8))")
        pluginsDirectory = self.workDirectory.appendingPathComponent("plugins.d")
        try? FileManager.default.removeItem(at: pluginsDirectory)
        try FileManager.default.createDirectory(at: pluginsDirectory, withIntermediateDirectories: true)
        let executable = try binary ?? Self.locateBinary()
        for plugin in plugins {
            try FileManager.default.copyItem(at: plugin, to: pluginsDirectory.appendingPathComponent(plugin.lastPathComponent))
        }
        for (name, text) in pluginConfigs {
            try text.write(to: pluginsDirectory.appendingPathComponent("\(name).toml"), atomically: true, encoding: .utf8)
        }
        let configFile = self.workDirectory.appendingPathComponent("plexus.toml")
        try """
        [server]
        listen = "127.0.0.1:0"
        \(serverSettings)
        [plugins]
        dir = "plugins.d"
        \(pluginSettings)
        [data]
        dir = "data"
        \(extra)
        """.write(to: configFile, atomically: true, encoding: .utf8)
        process.executableURL = executable
        process.arguments = ["serve", "--config", configFile.path]
        process.standardError = errorPipe
        process.standardOutput = FileHandle.nullDevice
        let buffer = logBuffer
        errorPipe.fileHandleForReading.readabilityHandler = { handle in
            buffer.append(handle.availableData)
        }
        try Self.withSignalsUnblocked { try process.run() }
        port = try waitForReady()
        adminKey = (try? String(contentsOf: self.workDirectory.appendingPathComponent("data/admin.key"), encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        credential = adminKey.isEmpty ? nil : adminKey
    }

    deinit {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        errorPipe.fileHandleForReading.readabilityHandler = nil
        if !keepWorkDirectory { try? FileManager.default.removeItem(at: workDirectory) }
    }

    /// A `GET` on a fresh connection, with ``credential`` unless `anonymous`.
    public func get(_ path: String, headers: String = "", anonymous: Bool = false) throws -> TestResponse {
        try TestClient.get(path, port: port, headers: authorized(headers, anonymous: anonymous, path: path))
    }

    /// Any request on a fresh connection, with ``credential`` unless `anonymous`.
    public func request(_ method: String, _ path: String, headers: String = "", body: [UInt8] = [], anonymous: Bool = false) throws -> TestResponse {
        try TestClient.request(method, path, port: port, headers: authorized(headers, anonymous: anonymous, path: path), body: body)
    }

    /// `headers` plus the `Authorization` line of ``credential`` (when the headers carry no credential).
    public func authorized(_ headers: String, anonymous: Bool = false, path: String? = nil) -> String {
        let lower = headers.lowercased()
        guard !anonymous, let credential = path.flatMap({ credentialForPath?($0) }) ?? credential,
              !lower.contains("authorization:"), !lower.contains("x-api-key:") else { return headers }
        return headers + "Authorization: Bearer \(credential)\r\n"
    }

    /// Creates an API key through the admin API and returns it (usable at once).
    public func createAPIKey(name: String, tenant: String? = nil, roles: [String] = [], scopes: [String] = []) throws -> String {
        var body: [String: Any] = ["name": name, "roles": roles, "scopes": scopes]
        if let tenant { body["tenant"] = tenant }
        let response = try request("POST", "/admin/api-keys", headers: "Content-Type: application/json\r\nAuthorization: Bearer \(adminKey)\r\n",
                                   body: Array(try JSONSerialization.data(withJSONObject: body)))
        guard response.status == 201, let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
              let key = object["key"] as? String else {
            throw TestFailure("creating API key '\(name)' failed: \(response.status) \(response.text)")
        }
        return key
    }

    /// Sends `signal` and waits for the exit status (0 after a clean shutdown).
    public func stop(signal: Int32 = SIGTERM) -> Int32 {
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// The admin endpoint's plugin list (`/admin/plugins`), keyed by file name.
    public func pluginsByFile() throws -> [String: [String: Any]] {
        let response = try get("/admin/plugins")
        guard let list = try JSONSerialization.jsonObject(with: Data(response.body)) as? [[String: Any]] else {
            throw TestFailure("/admin/plugins did not return a JSON array: \(response.text)")
        }
        return Dictionary(uniqueKeysWithValues: list.compactMap { entry in (entry["file"] as? String).map { ($0, entry) } })
    }

    private func waitForReady() throws -> Int {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let text = log
            // `address=127.0.0.1:PORT` in text logs, `"address":"127.0.0.1:PORT"` in JSON logs.
            if let range = text.range(of: #"address(=|":")127\.0\.0\.1:(\d+)"#, options: .regularExpression),
               let port = Int(text[range].split(separator: ":").last?.prefix { $0.isNumber } ?? "") {
                return port
            }
            guard process.isRunning else { throw TestFailure("plexus exited before it was ready:\n\(text)") }
            usleep(20_000)
        }
        throw TestFailure("plexus did not become ready within 30 s:\n\(log)")
    }

    /// Runs `body` with no signal blocked on this thread: a child inherits the spawning thread's
    /// mask, and a Dispatch or Swift-concurrency thread (an `async` test) blocks SIGTERM, which
    /// would leave the runtime deaf to `stop()` and to the deinit's terminate.
    private static func withSignalsUnblocked<T>(_ body: () throws -> T) rethrows -> T {
        var none = sigset_t()
        var saved = sigset_t()
        sigemptyset(&none)
        pthread_sigmask(SIG_SETMASK, &none, &saved)
        defer { pthread_sigmask(SIG_SETMASK, &saved, nil) }
        return try body()
    }

    private static func locateBinary() throws -> URL {
        if let path = ProcessInfo.processInfo.environment["PLEXUS_BINARY"] { return URL(fileURLWithPath: path) }
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent("plexus")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        throw TestFailure("no plexus binary: set PLEXUS_BINARY or put plexus on PATH")
    }
}

/// Text collected from a pipe on a background thread.
private final class LogBuffer: @unchecked Sendable {
    private let lock = NSLock()
    private var collected = ""

    var text: String { lock.withLock { collected } }

    func append(_ data: Data) {
        guard !data.isEmpty else { return }
        lock.withLock { collected += String(decoding: data, as: UTF8.self) }
    }
}
