import CLibPQ
import Foundation
import XCTest

/// A throw-away PostgreSQL cluster for the tests: `initdb` in a temp directory, `pg_ctl start` on
/// a free loopback port, stopped (and the directory removed) when the test process exits. As root
/// it runs the server as the `postgres` user (initdb refuses root). Each test gets a database of
/// its own (`newDatabaseURL`). Tests throw `XCTSkip` only when no PostgreSQL server binaries are
/// installed (`scripts/install-deps.sh` installs them).
public final class PostgresTestCluster: @unchecked Sendable {
    public let binaries: String
    public let directory: String
    public let port: Int
    private let runAs: String?

    private static let lock = NSLock()
    nonisolated(unsafe) private static var shared: PostgresTestCluster?
    nonisolated(unsafe) private static var startError: Error?

    /// The cluster of this test process, started on first use.
    public static func get() throws -> PostgresTestCluster {
        lock.lock()
        defer { lock.unlock() }
        if let shared { return shared }
        if let startError { throw startError }
        do {
            let cluster = try PostgresTestCluster()
            shared = cluster
            atexit { PostgresTestCluster.stopShared() }
            return cluster
        } catch {
            startError = error
            throw error
        }
    }

    public static func stopShared() {
        guard let cluster = shared else { return }
        _ = try? cluster.pgctl(["stop", "-m", "immediate", "-D", cluster.directory + "/data"])
        try? FileManager.default.removeItem(atPath: cluster.directory)
        shared = nil
    }

    private init() throws {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        guard let version = versions.compactMap(Int.init).max(),
            FileManager.default.isExecutableFile(atPath: "/usr/lib/postgresql/\(version)/bin/initdb")
        else {
            throw XCTSkip("PostgreSQL server binaries are not installed (run scripts/install-deps.sh)")
        }
        binaries = "/usr/lib/postgresql/\(version)/bin"
        directory = NSTemporaryDirectory() + "plexus-pg-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if getuid() == 0, let user = getpwnam("postgres") {
            runAs = "postgres"
            chown(directory, user.pointee.pw_uid, user.pointee.pw_gid)
        } else {
            runAs = nil
        }
        port = try Self.freePort()
        try run(binaries + "/initdb", ["-D", directory + "/data", "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C"])
        try pgctl([
            "start", "-w", "-t", "60", "-D", directory + "/data", "-l", directory + "/log",
            "-o", "-p \(port) -k \(directory) -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300",
        ])
    }

    /// The administrator URL of a database.
    public func url(database: String) -> String { "postgresql://postgres@127.0.0.1:\(port)/\(database)" }

    /// A new, empty database; its administrator URL.
    public func newDatabaseURL() throws -> String {
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        try execute("CREATE DATABASE \(name)", database: "postgres")
        return url(database: name)
    }

    /// Runs a statement as the administrator; returns the first column of every row.
    @discardableResult
    public func execute(_ sql: String, database: String = "postgres") throws -> [String] {
        try execute(sql, url: url(database: database))
    }

    /// Runs a statement on `url` (any user); returns the first column of every row, or throws the server's message.
    @discardableResult
    public func execute(_ sql: String, url: String) throws -> [String] {
        let connection = PQconnectdb(url)
        defer { PQfinish(connection) }
        guard PQstatus(connection) == CONNECTION_OK else {
            throw NSError(domain: "postgres", code: 1, userInfo: [NSLocalizedDescriptionKey: String(cString: PQerrorMessage(connection))])
        }
        let result = PQexec(connection, sql)
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
            let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) } ?? ""
            throw NSError(domain: "postgres", code: 2, userInfo: [NSLocalizedDescriptionKey: "\(state): " + String(cString: PQerrorMessage(connection))])
        }
        return (0..<PQntuples(result)).map { String(cString: PQgetvalue(result, $0, 0)) }
    }

    /// The database name of a URL from ``newDatabaseURL()``.
    public static func databaseName(_ url: String) -> String { String(url.split(separator: "/").last ?? "") }

    /// Makes TCP logins to `database` check passwords (SCRAM), except the administrator's (the rest
    /// of the cluster stays on trust): prepends two lines to pg_hba.conf, reloads, and waits until a
    /// login without a password is refused.
    public func requirePasswords(database: String) throws {
        let path = directory + "/data/pg_hba.conf"
        let current = try String(contentsOfFile: path, encoding: .utf8)
        let lines = "host \(database) postgres 127.0.0.1/32 trust\nhost \(database) all 127.0.0.1/32 scram-sha-256\n"
        try (lines + current).write(toFile: path, atomically: false, encoding: .utf8)
        try execute("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'plexus_probe') THEN CREATE ROLE plexus_probe LOGIN; END IF; END $$")
        try execute("SELECT pg_reload_conf()")
        let probe = "postgresql://plexus_probe@127.0.0.1:\(port)/\(database)?connect_timeout=2"
        for _ in 0..<200 {
            if (try? execute("SELECT 1", url: probe)) == nil { return }
            usleep(25_000)
        }
        throw NSError(domain: "postgres", code: 4, userInfo: [NSLocalizedDescriptionKey: "pg_hba.conf was not reloaded: \(database) still takes logins without a password"])
    }

    /// Stops the server (fast shutdown: connections are closed).
    public func stop() throws { try pgctl(["stop", "-w", "-m", "fast", "-D", directory + "/data"]) }

    /// Starts the server again on the same port.
    public func start() throws {
        try pgctl([
            "start", "-w", "-t", "60", "-D", directory + "/data", "-l", directory + "/log",
            "-o", "-p \(port) -k \(directory) -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300",
        ])
    }

    private func pgctl(_ arguments: [String]) throws { try run(binaries + "/pg_ctl", arguments) }

    private func run(_ tool: String, _ arguments: [String]) throws {
        let argv = runAs.map { ["/usr/sbin/runuser", "-u", $0, "--", tool] } ?? [tool]
        // posix_spawn and waitpid (Foundation's Process can miss the exit from an async test), output
        // to a file, not a pipe: the server pg_ctl starts inherits it and would hold a pipe open.
        let outputPath = NSTemporaryDirectory() + "plexus-pg-\(UUID().uuidString).out"
        defer { unlink(outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        let all = argv + arguments
        var cArguments = all.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        var pid = pid_t()
        let spawned = directory.withCString { _ in posix_spawn(&pid, all[0], &actions, nil, &cArguments, environ) }
        guard spawned == 0 else {
            throw NSError(domain: "postgres", code: Int(spawned), userInfo: [NSLocalizedDescriptionKey: "cannot run \(all[0]): \(String(cString: strerror(spawned)))"])
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exited = (status & 0x7f) == 0
        let code = (status >> 8) & 0xff
        guard exited && code == 0 else {
            let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
            throw NSError(domain: "postgres", code: Int(code), userInfo: [
                NSLocalizedDescriptionKey: "\(tool) \(arguments.joined(separator: " ")) failed (status \(status)): \(output)",
            ])
        }
    }

    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
                guard bind(fd, pointer, length) == 0 else { return -1 }
                return getsockname(fd, pointer, &length)
            }
        }
        guard bound == 0 else { throw NSError(domain: "postgres", code: 3, userInfo: [NSLocalizedDescriptionKey: "no free port"]) }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

