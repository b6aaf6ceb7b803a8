import ArgumentParser
import Foundation
import Logging
import PlexusRuntime

/// The worker of `plexus serve --supervise`, started by the master only.
struct Worker: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the plugins for a supervising master (internal).", shouldDisplay: false)

    @OptionGroup var options: ServeOptions
    @Option(help: "The inherited listening socket.")
    var listenFd: Int32
    @Option(help: "The master's shared record file.")
    var record: String
    @Option(help: "The master's process id.")
    var masterPid: Int32
    @Flag(help: "A reload generation: do not accept connections unless ready.")
    var reload = false
    @Option(help: "Memory recycles the master reports (JSON): the generation this one replaces, and the totals.")
    var recycles: String?
    @Option(help: "The worker's end of the master's connection handover channel.")
    var handoverFd: Int32?
    @Option(help: "The master's shared connection table.")
    var connectionTableFd: Int32?
    @Option(help: "The master's shared access log ring.")
    var accessLogRingFd: Int32?
    @Option(help: "The master's shared counter region.")
    var counterRegionFd: Int32?

    func run() throws {
        let settings = try options.settings()
        ServeOptions.bootstrapLogging(settings)
        var worker = try WorkerSettings(listenFD: listenFd, recordPath: record, masterPID: masterPid, config: settings)
        worker.holdUnlessReady = reload
        if let recycles { worker.recycles = try RecycleReport(argument: recycles) }
        if let handoverFd, let connectionTableFd { worker.handover = (handoverFd, connectionTableFd) }
        if let accessLogRingFd {
            do { try worker.attachAccessLogRing(fd: accessLogRingFd) } catch {
                Logger(label: "plexus").error("access log records are lost if this worker crashes: \(error)")
            }
        }
        if let counterRegionFd {
            do { try worker.attachCounterRegion(fd: counterRegionFd) } catch {
                Logger(label: "plexus").error("this worker's counts are not carried to the next generation: \(error)")
            }
        }
        let runtime = Runtime(config: settings, logger: Logger(label: "plexus"), launch: RuntimeLaunch(worker: worker))
        let code = try runtime.run()
        if code != 0 { throw ExitCode(code) }
    }
}

/// `plexus plugin release NAME`: lifts a supervisor quarantine.
struct Release: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Remove a plugin from the supervisor's quarantine (<data>/quarantine.json).")

    @Argument(help: "The plugin's name.")
    var name: String
    @Option(help: "The data directory (default ./data, or the config's).")
    var data: String?
    @Option(help: "The configuration file: with a [cluster] section, the release is made in Redis too, for every instance.")
    var config: String?

    func run() throws {
        let settings = try config.map { try RuntimeConfig(file: URL(fileURLWithPath: $0)) }
        let directory = data.map { URL(fileURLWithPath: $0) } ?? settings?.dataDirectory ?? URL(fileURLWithPath: "data")
        // Cluster mode: Redis first, so a refusal there leaves everything as it was. Redis releases
        // it (for every instance) when its hash or this data directory's file holds it.
        let heldLocally = Quarantine.load(dataDirectory: directory)[name] != nil
        let shared = try settings?.clusterRedis.map { try SharedQuarantine.release(name, heldLocally: heldLocally, settings: $0) } ?? false
        guard try Quarantine.release(name, dataDirectory: directory) || shared else {
            throw CommandFailure("plugin '\(name)' is not quarantined in \(Quarantine.file(in: directory).path)"
                                 + (settings?.clusterRedis != nil ? " nor in the cluster's Redis" : ""))
        }
        print("released \(name)\(shared ? " across the cluster (every instance forgets it)" : ""); a worker started from now on loads it again")
    }
}

/// `plexus reload`: asks a supervising master (`plexus serve --supervise`) for a new worker
/// generation and waits for the outcome: exit 0 once it serves, 1 with the reason when it was
/// rolled back (the previous generation keeps serving).
struct Reload: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Reload the plugins of a supervised server without dropping a request, and wait for the outcome (exit 1 on a rollback).",
        discussion: "Sends SIGHUP to the master in <data>/supervisor.pid and reads the outcome it publishes in <data>/reload.outcome.")

    @Option(help: "The data directory (default ./data).")
    var data = "data"
    @Option(help: "Seconds to wait for the outcome.")
    var timeout: Double = 60
    @Flag(help: "Only send the request; do not wait for the outcome.")
    var noWait = false

    func run() throws {
        let directory = URL(fileURLWithPath: data)
        let file = Supervisor.pidFile(in: directory)
        guard let text = try? String(contentsOf: file, encoding: .utf8), let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0 else {
            throw CommandFailure("no supervisor pid in \(file.path); is `plexus serve --supervise` running with this data directory?")
        }
        // A generation started at or after this moment answers this request (whole seconds of
        // the file system's clock are not involved: both sides read the same system clock).
        let sent = Date().timeIntervalSince1970
        guard kill(pid, SIGHUP) == 0 else {
            throw CommandFailure("cannot signal the supervisor (pid \(pid) from \(file.path)): \(String(cString: strerror(errno)))")
        }
        if noWait {
            print("reload requested (supervisor pid \(pid)); its log says whether the new generation serves or was rolled back")
            return
        }
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let outcome = ReloadOutcome.latest(dataDirectory: directory), outcome.startedAt >= sent {
                if outcome.serving {
                    print("reload complete: generation \(outcome.generation) serving")
                    return
                }
                throw CommandFailure("reload rolled back (generation \(outcome.generation)): \(outcome.reason); the previous generation keeps serving")
            }
            guard kill(pid, 0) == 0 || errno == EPERM else {
                throw CommandFailure("the supervisor (pid \(pid)) exited before the reload finished")
            }
            usleep(50_000)
        }
        throw CommandFailure("no reload outcome within \(Int(timeout)) s in \(ReloadOutcome.file(in: directory).path); the supervisor's log says what happened")
    }
}

