import Foundation
import Logging

/// The master's check of the plugin files before a worker loads them: every file not seen
/// before (or changed since: device, inode, size, modification time) is inspected in a
/// throw-away child (``PluginCheckProcess``). A file that crashes its inspector is quarantined by
/// its file name, so no worker ever loads it and the workers do not crash-loop (one that only
/// hangs it is left to the worker's watchdog, which blames the file being loaded).
/// Files the inspector merely refuses are left to the worker, which fails them with the same
/// diagnosis. Master only, loop thread.
final class PluginPreflight {
    /// What identifies one version of a file.
    struct Identity: Hashable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var modified: Int
        var modifiedNanoseconds: Int

        init?(_ path: String) {
            var status = stat()
            guard stat(path, &status) == 0 else { return nil }
            device = UInt64(status.st_dev)
            inode = UInt64(status.st_ino)
            size = Int64(status.st_size)
            modified = status.st_mtim.tv_sec
            modifiedNanoseconds = status.st_mtim.tv_nsec
        }
    }

    private let directory: URL
    private let dataDirectory: URL
    private let logger: Logger
    private let timeoutSeconds: Double
    /// The file versions checked already, by path.
    private var checked: [String: Identity] = [:]

    init(pluginsDirectory: URL, dataDirectory: URL, logger: Logger, timeoutSeconds: Double = 10) {
        directory = pluginsDirectory
        self.dataDirectory = dataDirectory
        self.logger = logger
        self.timeoutSeconds = timeoutSeconds
    }

    /// Checks the files that are new or changed since the last call; quarantines the fatal ones.
    func checkNewFiles() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        let quarantined = Quarantine.load(dataDirectory: dataDirectory)
        var pending: [URL: Identity] = [:]
        for name in names where (name.hasSuffix(".so") || name.hasSuffix(NativePlugin.manifestSuffix)) && !name.hasPrefix(".") {
            let file = directory.appendingPathComponent(name)
            guard quarantined[name] == nil else {
                checked[file.path] = nil  // checked again once released
                continue
            }
            guard let identity = Identity(file.path), checked[file.path] != identity else { continue }
            pending[file] = identity
        }
        guard !pending.isEmpty else { return }
        let outcomes = PluginCheckProcess.run(Array(pending.keys), timeoutSeconds: timeoutSeconds)
        for (file, outcome) in outcomes.sorted(by: { $0.key.path < $1.key.path }) {
            let name = file.lastPathComponent
            switch outcome {
            case .notChecked:
                logger.warning("plugin file \(name) was not checked before loading: \(outcome.summary)")
                continue  // tried again before the next worker starts
            case .loadable:
                logger.debug("plugin file \(name) checked", metadata: ["verdict": "\(outcome.summary)"])
            case .refused:
                logger.notice("plugin file \(name) will not load: \(outcome.summary)")
            case .crashed(let signal, _):
                quarantine(name, "loading it crashed a throw-away check process with \(signal) (the dynamic loader or the plugin's entry point)", signal: signal)
            case .timedOut:
                // Maybe only a loaded machine: the worker's watchdog and blame record judge a real hang.
                logger.warning("plugin file \(name): \(outcome.summary); a worker that hangs loading it is killed by the watchdog and blamed")
            }
            checked[file.path] = pending[file]
        }
    }

    private func quarantine(_ name: String, _ reason: String, signal: String) {
        let crash = Quarantine.Crash(at: Quarantine.timestamp(), what: "loading the file (checked by the master)", signal: signal)
        do {
            try Quarantine.add(name, .init(reason: reason, since: Quarantine.timestamp(), crashes: [crash]), dataDirectory: dataDirectory)
            logger.error("plugin file \(name) quarantined before any worker loads it: \(reason); fix: replace the file, then `plexus plugin release \(name)`",
                         metadata: ["file": "\(name)", "quarantine": "\(Quarantine.file(in: dataDirectory).path)"])
        } catch {
            logger.error("plugin file \(name) crashes the loader but cannot be quarantined: \(error)")
        }
    }
}
