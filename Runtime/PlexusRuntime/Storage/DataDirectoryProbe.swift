import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Questions asked of a data directory before a command writes to it: does it hold Plexus data, is it
/// empty, is a runtime using it.
public enum DataDirectoryProbe {
    /// Files whose presence marks a directory as a Plexus data directory.
    static let markers = ["events.sqlite", "admin.key", "runtime/gateway.sqlite", "runtime/audit.sqlite"]

    /// Whether `directory` holds any Plexus data: one of ``markers`` or a plugin's `plugins/<name>/storage.sqlite`.
    public static func holdsPlexusData(_ directory: URL) -> Bool {
        let fm = FileManager.default
        if markers.contains(where: { fm.fileExists(atPath: directory.appendingPathComponent($0).path) }) { return true }
        let plugins = directory.appendingPathComponent("plugins")
        return ((try? fm.contentsOfDirectory(atPath: plugins.path)) ?? []).contains {
            fm.fileExists(atPath: plugins.appendingPathComponent($0).appendingPathComponent("storage.sqlite").path)
        }
    }

    /// Whether `directory` is a directory with no entries.
    public static func isEmptyDirectory(_ directory: URL) -> Bool {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else { return false }
        return ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? ["?"]).isEmpty
    }

    /// Who uses `directory`, if anyone: a live supervisor (its `supervisor.pid`), or a process holding a lock
    /// (`flock` or `fcntl`) on a `*.lock` file in it. Nil when nothing does.
    public static func user(of directory: URL) -> String? {
        let pidFile = directory.appendingPathComponent("supervisor.pid")
        if let text = try? String(contentsOf: pidFile, encoding: .utf8), let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)),
           pid > 0, kill(pid, 0) == 0 || errno == EPERM {
            return "supervisor pid \(pid), \(pidFile.path)"
        }
        for name in ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []) where name.hasSuffix(".lock") {
            let path = directory.appendingPathComponent(name).path
            if isLocked(path) { return "\(path) is locked" }
        }
        return nil
    }

    /// Whether another process holds a `flock` or an `fcntl` lock on the file at `path`.
    static func isLocked(_ path: String) -> Bool {
        let fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var query = flock()
        query.l_type = Int16(F_WRLCK)
        query.l_whence = Int16(SEEK_SET)
        if fcntl(fd, F_GETLK, &query) == 0, query.l_type != Int16(F_UNLCK) { return true }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 { return errno == EWOULDBLOCK }
        _ = flock(fd, LOCK_UN)
        return false
    }
}
