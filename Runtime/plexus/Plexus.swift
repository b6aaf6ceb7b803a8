import ArgumentParser
import Foundation
import Logging
import PlexusRuntime

@main
struct Plexus: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Plexus: a plugin-hosting runtime.",
        version: Runtime.version,
        subcommands: [Serve.self, Plugins.self, PluginCommand.self, APIKeyCommand.self, Backup.self, Restore.self, Reload.self, Check.self, Worker.self, StorageCommand.self],
        defaultSubcommand: Serve.self
    )
}

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Load the plugins and serve HTTP until SIGINT/SIGTERM.")

    @OptionGroup var options: ServeOptions
    @Flag(inversion: .prefixedNo,
          help: "Run the plugins in a supervised worker process: crashes are contained, blamed and restarted (default: [supervisor] enabled, true unless the config says otherwise).")
    var supervise: Bool?

    func run() throws {
        let settings = try options.settings()
        ServeOptions.bootstrapLogging(settings)
        try PluginsDirectoryPreparation.prepare(settings, logger: Logger(label: "plexus"))
        if supervise ?? settings.supervisor.enabled {
            let supervisor = Supervisor(config: settings, logger: Logger(label: "plexus.supervisor"), workerArguments: ["worker"] + options.arguments)
            let code = try supervisor.run()
            if code != 0 { throw ExitCode(code) }
            return
        }
        // Without a master to contain them, files that crash the loader are found in throw-away processes first.
        let launch = RuntimeLaunch(systemd: SystemdNotifier.fromEnvironment(),
                                   crashingPluginFiles: PluginCheckProcess.crashingFiles(in: settings.pluginsDirectory))
        let runtime = Runtime(config: settings, logger: Logger(label: "plexus"), launch: launch)
        let code = try runtime.run()
        if code != 0 { throw ExitCode(code) }
    }
}

/// The options `serve` shares with the hidden `worker`.
struct ServeOptions: ParsableArguments {
    @Option(help: "A TOML config file (embedded defaults without one).")
    var config: String?
    @Option(help: "The plugins directory (default ./plugins.d).")
    var plugins: String?
    @Option(help: "The data directory (default ./data).")
    var data: String?
    @Option(help: "Address to listen on, HOST:PORT (default 127.0.0.1:8080).")
    var listen: String?
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String?
    @Flag(help: "Do not write an access log line per request.")
    var noAccessLog = false

    /// The options as given, to hand them on to a worker.
    var arguments: [String] {
        var result: [String] = []
        if let config { result += ["--config", config] }
        if let plugins { result += ["--plugins", plugins] }
        if let data { result += ["--data", data] }
        if let listen { result += ["--listen", listen] }
        if let logLevel { result += ["--log-level", logLevel] }
        if noAccessLog { result.append("--no-access-log") }
        return result
    }

    static func bootstrapLogging(_ settings: RuntimeConfig) {
        let level = settings.logLevel
        switch settings.logFormat {
        case .text:
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        case .json:
            LoggingSystem.bootstrap { label in JSONLogHandler.standardError(label: label, logLevel: level) }
        }
    }

    func settings() throws -> RuntimeConfig {
        var settings = RuntimeConfig()
        if let config {
            // A config file that is missing or wrong is a failure to report, not a misuse of the options.
            try CommandFailure.requireFile(config, option: "--config")
            do { settings = try RuntimeConfig(file: URL(fileURLWithPath: config)) } catch let error as RuntimeError {
                throw CommandFailure(error.description)
            }
        }
        do {
            if let plugins { settings.pluginsDirectory = URL(fileURLWithPath: plugins) }
            if let data { settings.dataDirectory = URL(fileURLWithPath: data) }
            if let listen { try settings.setListen(listen) }
            if let logLevel {
                guard let level = Logger.Level(rawValue: logLevel) else { throw ValidationError("--log-level '\(logLevel)' is not a log level") }
                settings.logLevel = level
            }
            if noAccessLog { settings.accessLog.destination = .off }
        } catch let error as RuntimeError {
            throw ValidationError(error.description)
        }
        return settings
    }
}
