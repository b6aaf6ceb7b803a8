import CPlexusShims
import Foundation
import Logging

/// The master of `plexus serve --supervise`: binds the listening socket, runs the plugins in a
/// worker process that inherits it, and when the worker dies from a signal (or its loop stalls
/// past the watchdog) names the plugin that was running, restarts the worker at once and
/// quarantines a plugin blamed too often. It never loads plugin code.
public final class Supervisor {
    /// The descriptor the worker finds the listening socket at.
    public static let workerListenFD: Int32 = 3

    let config: RuntimeConfig
    let logger: Logger
    /// `plexus worker` and its options, without the supervisor's own (`--listen-fd` and the rest).
    let workerArguments: [String]
    private var listenFD: Int32 = -1
    private var record: UnsafeMutablePointer<plexus_blame_record>!
    private var recordPath = ""
    private var worker: pid_t = 0
    private var workerStarted = Date()
    private var stopping = false
    private var history: [String: [(date: Date, crash: Quarantine.Crash)]] = [:]

    public init(config: RuntimeConfig, logger: Logger, workerArguments: [String]) {
        self.config = config
        self.logger = logger
        self.workerArguments = workerArguments
    }

    /// Runs until the worker stopped after a signal; returns the exit code.
    public func run() throws -> Int32 {
        signal(SIGPIPE, SIG_IGN)
        try FileManager.default.createDirectory(at: config.dataDirectory, withIntermediateDirectories: true)
        let address = try bind()
        recordPath = config.dataDirectory.appendingPathComponent("supervisor.record").path
        record = try Blame.map(path: recordPath, create: true)
        plexus_signal_count_install(SIGINT)
        plexus_signal_count_install(SIGTERM)
        logger.notice("supervisor listening", metadata: ["address": "\(address)", "watchdog_ms": "\(config.supervisor.watchdogMilliseconds)"])
        try spawn()
        var lastBeat: UInt64 = 0
        var lastChange = Date()
        var watchdogFired = false
        while true {
            usleep(10_000)
            var number: Int32 = 0
            var count = plexus_signal_count_take(&number)
            if count > 0 && !stopping {
                stopping = true
                count -= 1
                logger.notice("signal \(number): stopping the worker", metadata: ["worker": "\(worker)"])
                close(listenFD)
                kill(worker, number)
            }
            if count > 0 {
                logger.warning("second signal \(number): exiting at once")
                kill(worker, SIGKILL)
                var status: Int32 = 0
                waitpid(worker, &status, 0)
                return 1
            }
            var status: Int32 = 0
            let reaped = waitpid(worker, &status, WNOHANG)
            if reaped == worker {
                let signaled = (status & 0x7F) != 0 && (status & 0x7F) != 0x7F
                let signalNumber = status & 0x7F
                let exitStatus = (status >> 8) & 0xFF
                if stopping {
                    logger.notice("worker stopped", metadata: ["worker": "\(worker)", "status": "\(signaled ? "signal \(signalNumber)" : "\(exitStatus)")"])
                    return signaled ? 1 : exitStatus
                }
                guard signaled else {
                    logger.error("worker exited with status \(exitStatus); supervisor stops too", metadata: ["worker": "\(worker)"])
                    return exitStatus == 0 ? 1 : exitStatus
                }
                let cause = watchdogFired
                    ? "SIGKILL (watchdog: loop stalled for more than \(config.supervisor.watchdogMilliseconds) ms)"
                    : Self.signalName(signalNumber)
                crashed(cause: cause)
                watchdogFired = false
                try spawn()
                lastBeat = 0
                lastChange = Date()
                continue
            }
            let watchdog = config.supervisor.watchdogMilliseconds
            guard watchdog > 0, !watchdogFired else { continue }
            let beat = plexus_blame_heartbeat(record)
            if beat != lastBeat || beat == 0 {
                lastBeat = beat
                lastChange = Date()
            } else if Date().timeIntervalSince(lastChange) * 1000 > Double(watchdog) {
                watchdogFired = true
                logger.warning("watchdog: worker loop stalled for \(watchdog) ms; killing it", metadata: ["worker": "\(worker)"])
                kill(worker, SIGKILL)
            }
        }
    }

    /// A worker died from `cause`: blame, maybe quarantine, and log one line.
    private func crashed(cause: String) {
        let active = record.pointee.active != 0
        let plugin = active ? Self.text(&record.pointee.plugin) : ""
        let what = active ? Self.text(&record.pointee.what) : ""
        let lived = Date().timeIntervalSince(workerStarted)
        guard active, !plugin.isEmpty else {
            logger.error("worker \(worker) died from \(cause) with no plugin code running; restarting")
            if lived < 1 { usleep(500_000) }  // no culprit to quarantine: do not spin
            return
        }
        let crash = Quarantine.Crash(at: Quarantine.timestamp(), what: what, signal: cause)
        let now = Date()
        var crashes = (history[plugin] ?? []).filter { now.timeIntervalSince($0.date) <= Double(config.supervisor.quarantineWindowSeconds) }
        crashes.append((now, crash))
        history[plugin] = crashes
        logger.error("worker \(worker) crashed in plugin '\(plugin)' (\(what)) from \(cause); restarting",
                     metadata: ["plugin": "\(plugin)", "hook": "\(what)", "signal": "\(cause)", "crashes": "\(crashes.count)"])
        let limit = max(1, config.supervisor.quarantineAfter)
        guard crashes.count >= limit else { return }
        let reason = "crashed the worker \(crashes.count) times within \(config.supervisor.quarantineWindowSeconds) s (last: \(what), \(cause))"
        do {
            try Quarantine.add(plugin, .init(reason: reason, since: Quarantine.timestamp(), crashes: crashes.map(\.crash)), dataDirectory: config.dataDirectory)
            history[plugin] = nil
            logger.error("plugin '\(plugin)' quarantined: \(reason)", metadata: ["plugin": "\(plugin)", "file": "\(Quarantine.file(in: config.dataDirectory).path)"])
        } catch {
            logger.error("plugin '\(plugin)' cannot be quarantined: \(error)")
        }
    }

    private func spawn() throws {
        memset(record, 0, MemoryLayout<plexus_blame_record>.size)
        record.pointee.magic = Blame.magic
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let arguments = [executable] + workerArguments + ["--listen-fd", "\(Self.workerListenFD)", "--record", recordPath, "--master-pid", "\(getpid())"]
        var cArguments: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in cArguments { free(pointer) } }
        let pid = plexus_spawn_with_fd(executable, &cArguments, listenFD, Self.workerListenFD)
        guard pid > 0 else { throw RuntimeError.plugins("cannot start a worker (\(executable)): \(String(cString: strerror(-pid)))") }
        worker = pid
        workerStarted = Date()
        logger.info("worker started", metadata: ["worker": "\(pid)"])
    }

    /// Binds and listens on the configured address; returns `HOST:PORT` with the real port.
    private func bind() throws -> String {
        let host = config.host, port = config.port
        let six = host.contains(":")
        var fd = socket(six ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw RuntimeError.listen("socket: \(String(cString: strerror(errno)))") }
        if fd == Self.workerListenFD {  // keep descriptor 3 free for the dup2 in the worker
            let moved = fcntl(fd, F_DUPFD_CLOEXEC, 10)
            close(fd)
            fd = moved
        }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var status: Int32
        if six {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = UInt16(port).bigEndian
            guard inet_pton(AF_INET6, host, &address.sin6_addr) == 1 else { throw RuntimeError.listen("'\(host)' is not an IP address") }
            status = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(port).bigEndian
            guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { throw RuntimeError.listen("'\(host)' is not an IP address") }
            status = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        }
        guard status == 0 else { throw RuntimeError.listen("cannot bind \(host):\(port): \(String(cString: strerror(errno)))") }
        guard listen(fd, 511) == 0 else { throw RuntimeError.listen("cannot listen on \(host):\(port): \(String(cString: strerror(errno)))") }
        listenFD = fd
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        let boundPort = withUnsafePointer(to: &storage) { pointer -> UInt16 in
            six ? pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin6_port) }
                : pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
        }
        return six ? "[\(host)]:\(boundPort)" : "\(host):\(boundPort)"
    }

    static func signalName(_ number: Int32) -> String {
        switch number {
        case SIGSEGV: "SIGSEGV"
        case SIGABRT: "SIGABRT"
        case SIGBUS: "SIGBUS"
        case SIGFPE: "SIGFPE"
        case SIGILL: "SIGILL"
        case SIGKILL: "SIGKILL"
        case SIGTERM: "SIGTERM"
        case SIGTRAP: "SIGTRAP"
        default: "signal \(number)"
        }
    }

    private static func text<T>(_ tuple: inout T) -> String {
        withUnsafeBytes(of: &tuple) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
