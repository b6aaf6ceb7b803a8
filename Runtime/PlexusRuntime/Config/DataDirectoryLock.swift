import Foundation

/// An exclusive lock on a data directory (`flock` on `<data>/plexus.lock`), held for the life of the
/// process that serves from it, so two instances never share one directory's databases.
///
/// The supervised master takes it (its workers run under it and do not); a plain
/// `plexus serve --no-supervise` takes it itself. The file holds the holder's pid, named in the
/// refusal a second instance gets. The descriptor is close-on-exec: a worker does not inherit
/// the lock, so it ends with the process that took it.
public final class DataDirectoryLock {
    private let descriptor: Int32
    /// The lock file.
    public let path: String

    /// Takes the lock on `directory`, or throws naming the pid that holds it.
    public init(directory: URL) throws {
        path = directory.appendingPathComponent("plexus.lock").path
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw RuntimeError.dataDirectory("cannot open \(path): \(String(cString: strerror(errno))); fix: make the data directory writable")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let failure = errno
            let holder = Self.readPID(fd)
            close(fd)
            guard failure == EWOULDBLOCK else {
                throw RuntimeError.dataDirectory("cannot lock \(path): \(String(cString: strerror(failure)))")
            }
            throw RuntimeError.dataDirectory("data directory \(directory.path) is in use by another plexus (pid \(holder.map(String.init) ?? "unknown"), "
                + "holding \(path)); fix: stop that instance or give this one another --data directory")
        }
        descriptor = fd
        let text = "\(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    deinit { close(descriptor) }

    /// The pid written in the lock file, if any.
    private static func readPID(_ fd: Int32) -> Int32? {
        var buffer = [CChar](repeating: 0, count: 32)
        let count = pread(fd, &buffer, 31, 0)
        guard count > 0 else { return nil }
        return Int32(String(cString: buffer).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
