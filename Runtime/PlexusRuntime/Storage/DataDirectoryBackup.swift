import Foundation

/// A backup of a whole data directory, and its restore.
///
/// A backup mirrors the data directory's layout: every SQLite database (the event log
/// `events.sqlite`, the API keys `runtime/gateway.sqlite`, the audit log `runtime/audit.sqlite`, each
/// plugin's `plugins/<name>/storage.sqlite`, and any other) is copied with SQLite's online backup API,
/// so a backup taken while the runtime serves is consistent per database; every other file that
/// belongs to the installation (the admin key `admin.key`, a plugin's own files) is copied as is.
/// Left out, because they describe one running process and not the installation: the plugin-cache
/// copies, the supervisor's pid and blame records, the quarantine list, lock files, and SQLite's
/// `-wal`/`-shm`/`-journal` side files (their content is inside the online copies).
///
/// A manifest, ``manifestName``, lists every file with its size and kind; ``restore(from:into:force:)``
/// checks it before touching the target. Both operations build the result under a temporary sibling
/// name and rename it into place at the end, removing the temporary on any failure: an interrupted
/// backup or restore leaves no partial file where the result belongs.
public enum DataDirectoryBackup {
    /// The manifest's file name inside a backup.
    public static let manifestName = "plexus-backup.json"

    /// One file of a backup.
    public struct Entry: Codable, Sendable, Equatable {
        /// The path relative to the data directory.
        public var path: String
        /// The size of the copy, in bytes.
        public var bytes: Int
        /// `sqlite` (copied with the online backup API, checked with `quick_check`) or `file`.
        public var kind: String
    }

    /// The manifest of a backup.
    public struct Manifest: Codable, Sendable {
        /// The manifest's format, 1.
        public var format: Int
        /// When the backup was taken (ISO 8601).
        public var created: String
        /// The Plexus version that took it.
        public var runtimeVersion: String
        /// The data directory it was taken from.
        public var source: String
        /// Every file, in path order.
        public var files: [Entry]
    }

    /// Backs up `dataDirectory` into `output`, which must not exist or be an empty directory.
    /// - Throws: ``DatabaseBackup/Failure`` naming the file when the data directory holds no Plexus data,
    ///   `output` is not empty, or a copy fails (nothing is left at `output` then).
    @discardableResult
    public static func backup(dataDirectory: URL, output: URL, runtimeVersion: String) throws -> Manifest {
        let fm = FileManager.default
        guard DataDirectoryProbe.holdsPlexusData(dataDirectory) else {
            throw DatabaseBackup.Failure("\(dataDirectory.path) holds no Plexus databases (events.sqlite, runtime/gateway.sqlite, plugins/*/storage.sqlite): check --data")
        }
        if fm.fileExists(atPath: output.path) {
            guard DataDirectoryProbe.isEmptyDirectory(output) else {
                throw DatabaseBackup.Failure("\(output.path) already exists and is not an empty directory: choose a new --output")
            }
        }
        let staging = temporarySibling(of: output, label: "partial")
        try fm.createDirectory(at: staging, withIntermediateDirectories: true)
        do {
            var entries: [Entry] = []
            for relative in try filesToBackUp(in: dataDirectory) {
                let source = dataDirectory.appendingPathComponent(relative)
                let destination = staging.appendingPathComponent(relative)
                try fm.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
                let kind: String
                if DatabaseBackup.isDatabase(source.path) {
                    try DatabaseBackup.copy(source.path, to: destination.path)
                    kind = "sqlite"
                } else {
                    try fm.copyItem(at: source, to: destination)
                    kind = "file"
                }
                entries.append(Entry(path: relative, bytes: size(of: destination), kind: kind))
            }
            let manifest = Manifest(format: 1, created: ISO8601DateFormatter().string(from: Date()), runtimeVersion: runtimeVersion,
                                    source: dataDirectory.standardizedFileURL.path, files: entries)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(manifest).write(to: staging.appendingPathComponent(manifestName))
            if fm.fileExists(atPath: output.path) { try fm.removeItem(at: output) }
            try fm.moveItem(at: staging, to: output)
            return manifest
        } catch {
            try? fm.removeItem(at: staging)
            throw error
        }
    }

    /// Restores the backup at `backup` into `dataDirectory`: absent or empty, or (with `force`) replaced whole.
    /// Refuses while a runtime uses `dataDirectory`.
    /// - Throws: ``DatabaseBackup/Failure`` when `backup` is not a complete Plexus backup (no manifest, a file
    ///   missing, of another size, or failing `quick_check`), when the target is in use or not empty without
    ///   `force`, or when a copy fails (the target is then as it was).
    @discardableResult
    public static func restore(from backup: URL, into dataDirectory: URL, force: Bool) throws -> Manifest {
        let fm = FileManager.default
        let manifest = try verify(backup)
        if let holder = DataDirectoryProbe.user(of: dataDirectory) {
            throw DatabaseBackup.Failure("\(dataDirectory.path) is in use by a running Plexus (\(holder)): stop it before restoring")
        }
        let exists = fm.fileExists(atPath: dataDirectory.path)
        if exists && !DataDirectoryProbe.isEmptyDirectory(dataDirectory) && !force {
            throw DatabaseBackup.Failure("\(dataDirectory.path) is not empty: restore into a new or empty directory, or pass --force to replace its contents")
        }
        let staging = temporarySibling(of: dataDirectory, label: "restoring")
        try fm.createDirectory(at: staging, withIntermediateDirectories: true)
        do {
            for entry in manifest.files {
                let destination = staging.appendingPathComponent(entry.path)
                try fm.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
                try fm.copyItem(at: backup.appendingPathComponent(entry.path), to: destination)
            }
            if exists {
                let previous = temporarySibling(of: dataDirectory, label: "replaced")
                try fm.moveItem(at: dataDirectory, to: previous)
                do {
                    try fm.moveItem(at: staging, to: dataDirectory)
                } catch {
                    try? fm.moveItem(at: previous, to: dataDirectory)
                    throw error
                }
                try? fm.removeItem(at: previous)
            } else {
                try fm.moveItem(at: staging, to: dataDirectory)
            }
            return manifest
        } catch {
            try? fm.removeItem(at: staging)
            throw error
        }
    }

    /// Reads the manifest of `backup` and checks every file it lists (present, same size, databases pass `quick_check`).
    public static func verify(_ backup: URL) throws -> Manifest {
        let file = backup.appendingPathComponent(manifestName)
        guard let data = try? Data(contentsOf: file) else {
            throw DatabaseBackup.Failure("\(backup.path) is not a Plexus backup: it has no \(manifestName) (make one with `plexus backup`)")
        }
        let manifest: Manifest
        do { manifest = try JSONDecoder().decode(Manifest.self, from: data) } catch {
            throw DatabaseBackup.Failure("\(file.path) cannot be read: \(error)")
        }
        guard manifest.format == 1 else {
            throw DatabaseBackup.Failure("\(file.path) has format \(manifest.format); this Plexus reads format 1")
        }
        for entry in manifest.files {
            guard !entry.path.hasPrefix("/"), !entry.path.split(separator: "/").contains("..") else {
                throw DatabaseBackup.Failure("\(file.path) lists \(entry.path), which is outside the backup")
            }
            let path = backup.appendingPathComponent(entry.path).path
            guard FileManager.default.fileExists(atPath: path) else {
                throw DatabaseBackup.Failure("\(path): no such file; the backup is incomplete")
            }
            guard size(of: URL(fileURLWithPath: path)) == entry.bytes else {
                throw DatabaseBackup.Failure("\(path) has \(size(of: URL(fileURLWithPath: path))) bytes, the manifest says \(entry.bytes): the backup is damaged")
            }
            if entry.kind == "sqlite" { try DatabaseBackup.verify(path) }
        }
        return manifest
    }

    /// The files of `dataDirectory` a backup holds, relative paths in order.
    static func filesToBackUp(in dataDirectory: URL) throws -> [String] {
        let root = dataDirectory.standardizedFileURL.resolvingSymlinksInPath()
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey, .isDirectoryKey]) else {
            throw DatabaseBackup.Failure("\(dataDirectory.path) cannot be read")
        }
        var result: [String] = []
        let prefix = root.path.hasSuffix("/") ? root.path : root.path + "/"
        for case let url as URL in walker {
            let path = url.standardizedFileURL.resolvingSymlinksInPath().path
            guard path.hasPrefix(prefix) else { continue }
            let relative = String(path.dropFirst(prefix.count))
            let values = try? url.resourceValues(forKeys: [.isRegularFileKey, .isDirectoryKey])
            if values?.isDirectory == true {
                if excludedDirectories.contains(relative) { walker.skipDescendants() }
                continue
            }
            guard values?.isRegularFile == true, !isExcluded(url.lastPathComponent) else { continue }
            result.append(relative)
        }
        return result.sorted()
    }

    /// Directories (relative to the data directory) that belong to one process, not the installation.
    static let excludedDirectories: Set<String> = ["plugin-cache"]

    /// Whether a file name is process state or a side file rather than installation data.
    static func isExcluded(_ name: String) -> Bool {
        if ["supervisor.pid", "quarantine.json", "reload.outcome", manifestName].contains(name) { return true }
        if name.hasPrefix("supervisor.") && name.hasSuffix(".record") { return true }
        if name.hasSuffix(".lock") || name.hasSuffix("-wal") || name.hasSuffix("-shm") || name.hasSuffix("-journal") { return true }
        return name.contains(".partial")
    }

    /// `.<name>.<label>-<pid>` next to `url`; leftovers of the same kind from processes that are gone (a
    /// backup killed mid-copy) are removed first.
    private static func temporarySibling(of url: URL, label: String) -> URL {
        let target = url.standardizedFileURL
        let parent = target.deletingLastPathComponent()
        let prefix = ".\(target.lastPathComponent).\(label)-"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: parent.path)) ?? [] where name.hasPrefix(prefix) {
            if let pid = pid_t(name.dropFirst(prefix.count)), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH {
                try? FileManager.default.removeItem(at: parent.appendingPathComponent(name))
            }
        }
        return parent.appendingPathComponent(prefix + "\(getpid())")
    }

    private static func size(of url: URL) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? NSNumber)?.intValue ?? -1
    }
}
