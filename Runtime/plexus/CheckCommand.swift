import ArgumentParser
import Foundation
import PlexusRuntime

/// `plexus check`: what `nginx -t` is to nginx. Parses the configuration as `serve` would and
/// inspects every plugin file in a throw-away process (a file that crashes the loader kills only
/// that process), then lists every problem and exits 1, or prints a short summary and exits 0.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the configuration and every plugin file without serving (exit 1 with every problem listed).")

    @OptionGroup var options: ServeOptions

    func run() throws {
        let settings: RuntimeConfig
        do {
            settings = try options.settings()
        } catch {
            print("problem: configuration: \(error)")
            print("check failed: 1 problem")
            throw ExitCode(1)
        }
        let report = Self.check(settings)
        for problem in report.problems { print("problem: \(problem)") }
        if report.problems.isEmpty {
            print("check ok: configuration \(options.config ?? "(built-in defaults)"), \(report.summary)")
        } else {
            print("check failed: \(report.problems.count) problem\(report.problems.count == 1 ? "" : "s")")
            throw ExitCode(1)
        }
    }

    /// Every problem found in the plugins of `settings`, and a one-line summary.
    static func check(_ settings: RuntimeConfig) -> (problems: [String], summary: String) {
        let directory = settings.pluginsDirectory
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            let problems = settings.requiredPlugins.map { "required plugin '\($0)' is not installed (no plugins directory at \(directory.path))" }
            return (problems, "no plugins directory at \(directory.path): no plugins to check")
        }
        let files: [URL]
        do {
            files = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
                .filter { ($0.pathExtension == "so" || $0.lastPathComponent.hasSuffix(".native.toml")) && !$0.lastPathComponent.hasPrefix(".") }
                .sorted { $0.lastPathComponent < $1.lastPathComponent }
        } catch {
            return (["plugins directory \(directory.path) cannot be read: \(error.localizedDescription)"], "")
        }
        let outcomes = PluginCheckProcess.run(files)
        let quarantined = Quarantine.load(dataDirectory: settings.dataDirectory)
        var problems: [String] = []
        var names: [String: String] = [:]  // plugin name → file
        for file in files {
            let fileName = file.lastPathComponent
            guard let outcome = outcomes[file] else { continue }
            guard case let .loadable(name, _) = outcome else {
                // A refusal's diagnosis names the file already.
                let summary = outcome.summary
                problems.append(summary.hasPrefix("\(fileName): ") ? summary : "\(fileName): \(summary)")
                continue
            }
            if let first = names[name] {
                problems.append("\(fileName): duplicate plugin name '\(name)', already in \(first); fix: remove one of the two files")
                continue
            }
            names[name] = fileName
            if let problem = PluginConfigFile.problem(for: name, in: directory) {
                problems.append("\(fileName): plugin '\(name)' settings \(PluginConfigFile.url(for: name, in: directory).lastPathComponent): \(problem)")
            }
            if let entry = quarantined[name] ?? quarantined[fileName] {
                problems.append("\(fileName): plugin '\(name)' is quarantined (\(entry.reason)); fix: repair it, then `plexus plugin release \(quarantined[name] != nil ? name : fileName)`")
            }
        }
        for required in settings.requiredPlugins where names[required] == nil {
            problems.append("required plugin '\(required)' is not among the loadable plugins in \(directory.path)")
        }
        return (problems, "\(names.count) plugin\(names.count == 1 ? "" : "s") loadable in \(directory.path): \(names.keys.sorted().joined(separator: ", "))")
    }
}
