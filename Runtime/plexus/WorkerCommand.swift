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

    func run() throws {
        let settings = try options.settings()
        ServeOptions.bootstrapLogging(settings)
        let runtime = Runtime(config: settings, logger: Logger(label: "plexus"))
        runtime.worker = try WorkerSettings(listenFD: listenFd, recordPath: record, masterPID: masterPid, config: settings)
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
