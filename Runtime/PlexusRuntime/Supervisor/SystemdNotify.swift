import Foundation
import CLibUV
import Glibc

/// systemd's service notification protocol (`sd_notify(3)`), spoken by hand: one datagram of
/// `KEY=VALUE` lines per state change, sent to the `AF_UNIX` socket named by `$NOTIFY_SOCKET`
/// (a path, or an abstract name written with a leading `@`).
///
/// The process systemd started (the master, or `plexus serve --no-supervise`) is the only one
/// that talks: ``fromEnvironment()`` removes `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID`
/// from the environment so workers and plugin code never inherit them (the unit says
/// `NotifyAccess=main`). Sends never block and a failed send is ignored, as `sd_notify` does:
/// the service must run the same with no systemd watching.
public final class SystemdNotifier {
    private let socketFD: Int32
    private var address: sockaddr_un
    private let addressLength: socklen_t
    /// How often to send `WATCHDOG=1` (half of `WATCHDOG_USEC`), or nil when systemd's watchdog is off.
    public let watchdogInterval: UInt64?

    /// The notifier for `$NOTIFY_SOCKET`, or nil when the variable is unset, empty or names a
    /// socket kind other than `AF_UNIX` (`vsock:` is not supported). Reads and then clears the
    /// variables.
    public static func fromEnvironment() -> SystemdNotifier? {
        let environment = ProcessInfo.processInfo.environment
        defer {
            unsetenv("NOTIFY_SOCKET")
            unsetenv("WATCHDOG_USEC")
            unsetenv("WATCHDOG_PID")
        }
        guard let name = environment["NOTIFY_SOCKET"] else { return nil }
        var watchdog: UInt64?
        if let text = environment["WATCHDOG_USEC"], let microseconds = UInt64(text), microseconds > 0 {
            // WATCHDOG_PID names the process meant to ping; another process's watchdog is not ours.
            if let pid = environment["WATCHDOG_PID"].flatMap({ pid_t($0) }), pid != getpid() {
                watchdog = nil
            } else {
                watchdog = max(1, microseconds / 2 / 1000)
            }
        }
        return SystemdNotifier(socketName: name, watchdogIntervalMilliseconds: watchdog)
    }

    /// A notifier for the socket `name` (`/run/...` or `@abstract`); nil when it cannot be used.
    public init?(socketName name: String, watchdogIntervalMilliseconds: UInt64? = nil) {
        let bytes = Array(name.utf8)
        var target = sockaddr_un()
        let capacity = MemoryLayout.size(ofValue: target.sun_path)
        guard let first = bytes.first, first == UInt8(ascii: "/") || first == UInt8(ascii: "@"), bytes.count < capacity else { return nil }
        target.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &target.sun_path) { path in
            for (index, byte) in bytes.enumerated() { path[index] = byte }
            if first == UInt8(ascii: "@") { path[0] = 0 }  // an abstract name: no terminating NUL counts
        }
        address = target
        let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path) ?? 2
        addressLength = socklen_t(pathOffset + bytes.count + (first == UInt8(ascii: "@") ? 0 : 1))
        socketFD = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socketFD >= 0 else { return nil }
        watchdogInterval = watchdogIntervalMilliseconds
    }

    deinit { close(socketFD) }

    /// `READY=1`: the service serves (`/ready` answers 200). Also ends a reload.
    public func ready(status: String? = nil) { send(["READY=1"] + (status.map { ["STATUS=\($0)"] } ?? [])) }

    /// `RELOADING=1` with `MONOTONIC_USEC` (systemd 253's reload protocol); ``ready(status:)`` ends it.
    public func reloading(status: String? = nil) {
        send(["RELOADING=1", "MONOTONIC_USEC=\(Self.monotonicMicroseconds())"] + (status.map { ["STATUS=\($0)"] } ?? []))
    }

    /// `STOPPING=1`: the service is shutting down.
    public func stopping() { send(["STOPPING=1"]) }

    /// `WATCHDOG=1`: the main loop is alive.
    public func watchdog() { send(["WATCHDOG=1"]) }

    /// `STATUS=...`: a one-line status shown by `systemctl status`.
    public func status(_ text: String) { send(["STATUS=\(text)"]) }

    /// Sends one datagram of `KEY=VALUE` lines (no line may hold a newline: they are replaced).
    func send(_ assignments: [String]) {
        let message = assignments.map { $0.replacingOccurrences(of: "\n", with: " ") }.joined(separator: "\n") + "\n"
        _ = message.withCString { text in
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(socketFD, text, strlen(text), Int32(MSG_DONTWAIT | MSG_NOSIGNAL), $0, addressLength)
                }
            }
        }
    }

    /// `CLOCK_MONOTONIC` in microseconds, the clock systemd compares `MONOTONIC_USEC` with.
    static func monotonicMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
    }
}

/// When a notifier's pings are due: `WATCHDOG=1` every ``SystemdNotifier/watchdogInterval``.
struct SystemdWatchdogSchedule {
    let interval: UInt64
    private var next: UInt64

    init(intervalMilliseconds: UInt64, now: UInt64) {
        interval = intervalMilliseconds
        next = now
    }

    /// Whether a ping is due at `now` (milliseconds, monotonic); schedules the next one when it is.
    mutating func due(now: UInt64) -> Bool {
        guard now >= next else { return false }
        next = now + interval
        return true
    }
}

/// What systemd has been told about the service, so each state is announced once and in order:
/// `READY=1` when the serving process first reports ready (as `/ready` would answer 200),
/// `RELOADING=1` when a reload starts and `READY=1` when it ends (served or rolled back),
/// `WATCHDOG=1` on schedule, `STOPPING=1` once.
final class SystemdServiceState {
    let notifier: SystemdNotifier
    private var announcedReady = false
    private var reloading = false
    private var stopped = false
    private var watchdog: SystemdWatchdogSchedule?

    init(notifier: SystemdNotifier) {
        self.notifier = notifier
        watchdog = notifier.watchdogInterval.map { SystemdWatchdogSchedule(intervalMilliseconds: $0, now: Self.nowMilliseconds()) }
    }

    /// Called often from the main loop: announces readiness the first time `servingReady` holds
    /// and sends the watchdog pings that are due. A reload that ended without a verdict (its new
    /// generation abandoned because the serving worker crashed) ends once the restarted worker is ready.
    func tick(servingReady: Bool, reloadInProgress: Bool = false) {
        guard !stopped else { return }
        if reloading && !reloadInProgress && servingReady { reloadEnded("serving after a worker restart") }
        if servingReady && !announcedReady && !reloading {
            announcedReady = true
            notifier.ready(status: "serving")
        }
        if watchdog?.due(now: Self.nowMilliseconds()) == true { notifier.watchdog() }
    }

    /// A reload (a new worker generation) started.
    func reloadStarted(_ reason: String) {
        guard !stopped else { return }
        reloading = true
        notifier.reloading(status: "reloading: \(reason)")
    }

    /// The reload ended: the new generation serves, or it was rolled back and the old one serves.
    func reloadEnded(_ outcome: String) {
        guard reloading, !stopped else { return }
        reloading = false
        announcedReady = true
        notifier.ready(status: outcome)
    }

    /// The service is shutting down.
    func stopping() {
        guard !stopped else { return }
        stopped = true
        notifier.stopping()
    }

    private static func nowMilliseconds() -> UInt64 { SystemdNotifier.monotonicMicroseconds() / 1_000 }
}
