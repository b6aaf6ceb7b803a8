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

    func run() throws {
        let settings = try options.settings()
        ServeOptions.bootstrapLogging(settings)
        let runtime = Runtime(config: settings, logger: Logger(label: "plexus"))
        runtime.worker = try WorkerSettings(listenFD: listenFd, recordPath: record, masterPID: masterPid, config: settings)
        runtime.worker?.holdUnlessReady = reload
        if let recycles { runtime.worker?.recycles = try RecycleReport(argument: recycles) }
        if let handoverFd, let connectionTableFd { runtime.worker?.handover = (handoverFd, connectionTableFd) }
        let code = try runtime.run()
        if code != 0 { throw ExitCode(code) }
    }
}

/// `plexus plugin release NAME`: lifts a supervisor quarantine.
struct Release: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Remove a plugin from the supervisor's quarantine (<data>/quarantine.json).")

    @Argument(help: "The plugin's name.")
    var name: String
    @Option(help: "The data directory (default ./data).")
    var data = "data"

    func run() throws {
        let directory = URL(fileURLWithPath: data)
        guard try Quarantine.release(name, dataDirectory: directory) else {
            throw ValidationError("plugin '\(name)' is not quarantined in \(Quarantine.file(in: directory).path)")
        }
        print("released \(name); a worker started from now on loads it again")
    }
}

/// `plexus reload`: asks a supervising master (`plexus serve --supervise`) for a new worker generation.
struct Reload: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Reload the plugins of a supervised server without dropping a request (SIGHUP to the master in <data>/supervisor.pid).")

    @Option(help: "The data directory (default ./data).")
    var data = "data"

    func run() throws {
        let file = Supervisor.pidFile(in: URL(fileURLWithPath: data))
        guard let text = try? String(contentsOf: file, encoding: .utf8), let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0 else {
            throw ValidationError("no supervisor pid in \(file.path); is `plexus serve --supervise` running with this data directory?")
        }
        guard kill(pid, SIGHUP) == 0 else {
            throw ValidationError("cannot signal the supervisor (pid \(pid) from \(file.path)): \(String(cString: strerror(errno)))")
        }
        print("reload requested (supervisor pid \(pid)); its log says whether the new generation serves or was rolled back")
    }
}
