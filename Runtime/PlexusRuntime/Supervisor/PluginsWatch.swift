import CLibUV
import Foundation
import Logging

/// The master's watch on the plugins directory (`[supervisor] watch_plugins`): libuv fs events
/// (inotify), debounced, and a fingerprint of the files a worker reads there, so only a real
/// change asks for a new worker generation.
///
/// Dotfiles and subdirectories (a runtime's `.state/`, an editor's `.swp`, a copy's temporary
/// `.name.so`) are ignored. When the directory is removed or replaced the watch is dropped and
/// re-armed on whatever is at the path then; while that fails, the directory is polled every
/// ``fallbackInterval``. Loop thread only.
final class PluginsWatch {
    /// Quiet time after the last event before the directory is compared: a copy fires many events.
    static let debounce: TimeInterval = 0.3
    /// The longest a stream of events postpones the comparison.
    static let longestDebounce: TimeInterval = 3
    /// How often the directory is polled (and the watch re-armed) while it cannot be watched.
    static let fallbackInterval: TimeInterval = 1

    private let path: String
    private let logger: Logger
    private let handle: UnsafeMutablePointer<uv_fs_event_t>
    /// The directory the watch is armed on (device, inode); nil while not watching.
    private var watched: (device: UInt64, inode: UInt64)?
    /// The plugin files as the last generation was started for (nil: the directory was missing).
    private var fingerprint: [String]?
    /// When the debounce of the latest event runs out, and when the first event not compared yet came.
    private var settleAt: Date?
    private var firstEvent: Date?
    /// The next poll while not watching, and what the previous poll saw.
    private var nextPoll: Date?
    private var polled: [String]?

    init(loop: EventLoop, directory: URL, logger: Logger) {
        path = directory.path
        self.logger = logger
        handle = .allocate(capacity: 1)
        uv_fs_event_init(loop.uv, handle)
        handle.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        fingerprint = Self.fingerprint(of: path)
        if let problem = arm() {
            logger.warning("cannot watch the plugins directory \(path) (\(problem)): polling it every \(Int(Self.fallbackInterval)) s until the watch can be armed")
            nextPoll = Date().addingTimeInterval(Self.fallbackInterval)
            polled = fingerprint
        }
    }

    /// Says, when due, why a new worker generation should start; call from the master's tick.
    func check(now: Date = Date()) -> String? {
        if watched == nil {
            guard let poll = nextPoll, now >= poll else { return nil }
            nextPoll = now.addingTimeInterval(Self.fallbackInterval)
            if arm() == nil {
                nextPoll = nil
                logger.notice("plugins directory \(path): fs event watch armed again")
                changed(nil, status: 0)  // compared once it holds still: it may be filling up
                return nil
            }
            // Polling: a change counts once two polls in a row see the same files.
            let seen = Self.fingerprint(of: path)
            defer { polled = seen }
            return seen == polled ? compare("plugins directory changed") : nil
        }
        guard let settle = settleAt, now >= settle || now.timeIntervalSince(firstEvent ?? now) >= Self.longestDebounce else { return nil }
        settleAt = nil
        firstEvent = nil
        var info = stat()
        if stat(path, &info) != 0 {
            drop("plugins directory \(path) was removed: no reload until it is back; polling every \(Int(Self.fallbackInterval)) s to re-arm the watch", now: now)
            return nil
        }
        if UInt64(info.st_dev) != watched?.device || UInt64(info.st_ino) != watched?.inode {
            uv_fs_event_stop(handle)
            watched = nil
            if let problem = arm() {
                drop("plugins directory \(path) was replaced and cannot be watched (\(problem)): polling it every \(Int(Self.fallbackInterval)) s", now: now)
            } else {
                logger.notice("plugins directory \(path) was replaced: watch re-armed on the new directory")
                changed(nil, status: 0)  // compared once it holds still: it may be filling up
            }
            return nil
        }
        return compare("plugins directory changed")
    }

    /// Stops watching; the handle is freed once libuv has closed it.
    func close() {
        uv_fs_event_stop(handle)
        uv_close(UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_handle_t.self)) { handle in
            UnsafeMutableRawPointer(handle!).assumingMemoryBound(to: uv_fs_event_t.self).deallocate()
        }
    }

    /// A reload reason when the plugin files differ from the last generation's.
    private func compare(_ reason: String) -> String? {
        guard let now = Self.fingerprint(of: path) else { return nil }  // missing: a worker could not load anything
        guard now != fingerprint else { return nil }
        fingerprint = now
        return reason
    }

    private func drop(_ message: String, now: Date) {
        uv_fs_event_stop(handle)
        watched = nil
        nextPoll = now.addingTimeInterval(Self.fallbackInterval)
        polled = Self.fingerprint(of: path)
        logger.warning("\(message)")
    }

    /// Starts the fs event watch on the path; returns the problem when it cannot.
    private func arm() -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return String(cString: strerror(errno)) }
        guard (info.st_mode & S_IFMT) == S_IFDIR else { return "not a directory" }
        let status = uv_fs_event_start(handle, { handle, name, events, status in
            guard let handle, let watch = handle.pointee.data else { return }
            Unmanaged<PluginsWatch>.fromOpaque(watch).takeUnretainedValue().changed(name.map { String(cString: $0) }, status: status)
        }, path, 0)
        guard status == 0 else { return String(cString: uv_strerror(status)) }
        watched = (UInt64(info.st_dev), UInt64(info.st_ino))
        return nil
    }

    /// An fs event: `name` is the entry that changed, or the directory's own name when it was
    /// moved or removed. Pushes the debounce back unless the entry is one a worker never reads.
    private func changed(_ name: String?, status: Int32) {
        if status == 0, let name, name != (path as NSString).lastPathComponent, !Self.isPluginFile(name) { return }
        let now = Date()
        settleAt = now.addingTimeInterval(Self.debounce)
        firstEvent = firstEvent ?? now
    }

    /// What a worker reads from the directory: `*.so` and their `<name>.toml` settings; not dotfiles.
    static func isPluginFile(_ name: String) -> Bool {
        !name.hasPrefix(".") && (name.hasSuffix(".so") || name.hasSuffix(".toml"))
    }

    /// Names, sizes and modification times of the plugin files, sorted; nil when the directory cannot be read.
    static func fingerprint(of directory: String) -> [String]? {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return nil }
        return names.filter(isPluginFile).sorted().map { name in
            var info = stat()
            guard stat(directory + "/" + name, &info) == 0 else { return name }
            return "\(name) \(info.st_size) \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
        }
    }
}
