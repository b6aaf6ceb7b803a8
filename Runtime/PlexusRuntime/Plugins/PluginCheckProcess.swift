import CPlexusShims
import Foundation

/// Inspects plugin files in throw-away child processes (`plexus plugin inspect --in-process FILE`, one per
/// file, run side by side), so a file that crashes the dynamic loader or its entry point kills
/// only that child. Used by the supervisor before a worker loads new files, and by `plexus check`.
///
/// The children are reaped here by pid, so the caller must not reap them (`waitpid(-1)`) while
/// ``run(_:executable:timeoutSeconds:)`` runs.
public enum PluginCheckProcess {
    /// What one child found.
    public enum Outcome: Equatable, Sendable {
        /// The runtime can load it: the plugin's name and the inspector's verdict.
        case loadable(name: String, verdict: String)
        /// It cannot be loaded; the inspector's diagnosis (the process exited non-zero).
        case refused(String)
        /// Loading it killed the process with `signal` (its name); whatever the child printed.
        case crashed(signal: String, output: String)
        /// The child did not finish within the time allowed (and was killed).
        case timedOut(seconds: Double)
        /// The child could not be started.
        case notChecked(String)

        /// One line for logs and `plexus check`.
        public var summary: String {
            switch self {
            case let .loadable(_, verdict): verdict
            case let .refused(diagnosis): diagnosis
            case let .crashed(signal, _):
                "loading it crashed the process with \(signal) (the dynamic loader or the plugin's entry point); fix: rebuild the plugin with the Plexus SDK, or remove the file and report it to its author"
            case let .timedOut(seconds):
                "loading it did not finish within \(Int(seconds)) s (the plugin's entry point hangs); fix: rebuild the plugin, or remove the file and report it to its author"
            case let .notChecked(reason): "not checked: \(reason)"
            }
        }

        /// The file would crash or hang a worker that loads it.
        public var isFatal: Bool {
            switch self {
            case .crashed, .timedOut: true
            default: false
            }
        }
    }

    /// This process's executable (the `plexus` binary).
    public static var currentExecutable: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// The plugin files in `directory` that crash the process loading them (each checked in its
    /// own child), by file name, with the diagnosis. For a runtime without a supervisor, which
    /// must not load them at all.
    public static func crashingFiles(in directory: URL, executable: String = currentExecutable) -> [String: String] {
        let files = ((try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)) ?? [])
            .filter { ($0.pathExtension == "so" || NativePlugin.isManifest($0)) && !$0.lastPathComponent.hasPrefix(".") }
        var crashing: [String: String] = [:]
        for (file, outcome) in run(files, executable: executable) {
            if case .crashed = outcome { crashing[file.lastPathComponent] = outcome.summary }
        }
        return crashing
    }

    /// Inspects every file in its own child of `executable`; returns the outcome per file.
    public static func run(_ files: [URL], executable: String = currentExecutable, timeoutSeconds: Double = 10) -> [URL: Outcome] {
        runWithOutput(files, executable: executable, timeoutSeconds: timeoutSeconds).mapValues(\.outcome)
    }

    /// As ``run(_:executable:timeoutSeconds:)``, with what each child printed on its standard output.
    public static func runWithOutput(_ files: [URL], executable: String = currentExecutable,
                                     timeoutSeconds: Double = 10) -> [URL: (outcome: Outcome, output: String)] {
        var outcomes: [URL: (outcome: Outcome, output: String)] = [:]
        var children: [Child] = []
        for file in files {
            do {
                children.append(try Child.start(file: file, executable: executable))
            } catch {
                outcomes[file] = (.notChecked(error.message), "")
            }
        }
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while children.contains(where: { !$0.eof }) && Date() < deadline {
            var polls = children.filter { !$0.eof }.map { pollfd(fd: $0.output, events: Int16(POLLIN), revents: 0) }
            let wait = Int32(max(1, min(200, deadline.timeIntervalSinceNow * 1000)))
            guard poll(&polls, nfds_t(polls.count), wait) >= 0 || errno == EINTR else { break }
            for child in children where !child.eof { child.drain() }
        }
        for child in children {
            if !child.eof { kill(child.pid, SIGKILL) }
            var status: Int32 = 0
            while waitpid(child.pid, &status, 0) < 0 && errno == EINTR {}
            close(child.output)
            let text = String(decoding: child.bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            let lastLine = text.split(separator: "\n").last.map(String.init) ?? ""
            let signal = status & 0x7F
            if !child.eof {
                outcomes[child.file] = (.timedOut(seconds: timeoutSeconds), text)
            } else if signal != 0 && signal != 0x7F {
                outcomes[child.file] = (.crashed(signal: Supervisor.signalName(signal), output: text), text)
            } else if (status >> 8) & 0xFF == 0 {
                let nameRow = text.split(separator: "\n").first { $0.hasPrefix("name ") }
                let name = nameRow.map { $0.dropFirst(5).trimmingCharacters(in: .whitespaces) } ?? child.file.lastPathComponent
                outcomes[child.file] = (.loadable(name: name, verdict: lastLine), text)
            } else {
                let diagnosis = lastLine.hasPrefix("not loadable: ") ? String(lastLine.dropFirst("not loadable: ".count)) : lastLine
                outcomes[child.file] = (.refused(diagnosis.isEmpty ? "the inspector exited with status \((status >> 8) & 0xFF)" : diagnosis), text)
            }
        }
        return outcomes
    }

    /// One running inspector and what it printed so far.
    private final class Child {
        let file: URL
        let pid: pid_t
        let output: Int32
        var bytes: [UInt8] = []
        var eof = false

        init(file: URL, pid: pid_t, output: Int32) {
            self.file = file
            self.pid = pid
            self.output = output
        }

        static func start(file: URL, executable: String) throws(PluginLoadError) -> Child {
            var ends: [Int32] = [-1, -1]
            // Close-on-exec (pipe2 is not visible from Swift): the master spawns from one thread only.
            guard pipe(&ends) == 0, ends.allSatisfy({ fcntl($0, F_SETFD, FD_CLOEXEC) == 0 }), fcntl(ends[0], F_SETFL, O_NONBLOCK) == 0 else {
                throw PluginLoadError(.unreadable, "\(file.lastPathComponent): no pipe for its inspector: \(String(cString: strerror(errno)))")
            }
            let arguments = [executable, "plugin", "inspect", "--in-process", file.path]
            var cArguments: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
            defer { for pointer in cArguments { free(pointer) } }
            // The pipe becomes the child's standard output; its standard error stays the caller's.
            let pid = plexus_spawn_with_fd(executable, &cArguments, ends[1], STDOUT_FILENO)
            close(ends[1])
            guard pid > 0 else {
                close(ends[0])
                throw PluginLoadError(.unreadable, "\(file.lastPathComponent): cannot start its inspector \(executable): \(String(cString: strerror(-pid)))")
            }
            return Child(file: file, pid: pid, output: ends[0])
        }

        /// Reads what is available without blocking; notes the end of the output.
        func drain() {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let got = buffer.withUnsafeMutableBytes { read(output, $0.baseAddress, $0.count) }
                if got > 0 {
                    if bytes.count < 65_536 { bytes += buffer[0..<got] }
                    continue
                }
                if got == 0 || (errno != EAGAIN && errno != EINTR) { eof = true }
                return
            }
        }
    }
}
