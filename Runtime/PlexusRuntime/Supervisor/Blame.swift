import CPlexusShims
import Foundation

/// Which plugin code the worker is running right now, kept in the supervisor's shared record so
/// the master can name the culprit after the worker died. A no-op unless the process is a
/// supervised worker (``attach(path:)`` was called). The marks of ``mark(plugin:what:)`` and
/// ``around(_:_:_:)`` are the loop thread's (loop thread only); work on other threads is marked
/// with ``offLoop(plugin:file:what:_:)`` in a slot of its own, so the master blames the thread
/// that crashed (see ``BlameCulprit``).
public enum Blame {
    nonisolated(unsafe) static var record: UnsafeMutablePointer<plexus_blame_record>? {
        didSet { written = nil }
    }
    /// Marks of calls still in progress that an inner call covers (a plugin call that reaches
    /// another plugin nests); the innermost is ``written``. Empty unless calls nest, so a call
    /// that does not nest costs no array operation.
    nonisolated(unsafe) private static var outer: [(plugin: String, file: String, what: String)] = []
    /// Calls marked and not returned yet.
    nonisolated(unsafe) private static var depth = 0
    /// The texts the record holds (written last): a mark with the same texts (a route called
    /// again) only marks the record active again instead of copying them.
    nonisolated(unsafe) private static var written: (plugin: String, file: String, what: String)?

    static let magic: UInt32 = 0x504C_5842

    /// Maps the shared record the master created at `path`.
    public static func attach(path: String) throws {
        let mapped = try map(path: path, create: false)
        record = mapped
        plexus_blame_set_loop_thread(mapped)
        // After the Swift runtime's own handlers, so a crash is flagged first and then backtraced.
        plexus_crash_flag_install(mapped)
    }

    /// Maps (and with `create`, creates and zeroes) the record file.
    static func map(path: String, create: Bool) throws -> UnsafeMutablePointer<plexus_blame_record> {
        let size = MemoryLayout<plexus_blame_record>.size
        let fd = open(path, create ? (O_RDWR | O_CREAT | O_CLOEXEC) : (O_RDWR | O_CLOEXEC), 0o600)
        guard fd >= 0 else { throw RuntimeError.config("supervisor record \(path) cannot be opened: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        if create { guard ftruncate(fd, off_t(size)) == 0 else { throw RuntimeError.config("supervisor record \(path): ftruncate failed") } }
        guard let memory = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), memory != MAP_FAILED else {
            throw RuntimeError.config("supervisor record \(path) cannot be mapped: \(String(cString: strerror(errno)))")
        }
        return memory.assumingMemoryBound(to: plexus_blame_record.self)
    }

    /// Records that `plugin` runs `what` (a hook or route) from now until ``clear()``.
    @inline(__always)
    static func mark(plugin: PluginInstance, what: @autoclosure () -> String) {
        guard record != nil else { return }
        push(plugin.name, plugin.fileName, what())
    }

    /// As ``mark(plugin:what:)`` for callers that only have the plugin's name.
    @inline(__always)
    static func mark(name: String, what: @autoclosure () -> String) {
        guard record != nil else { return }
        push(name, name, what())
    }

    /// The call marked last has returned.
    @inline(__always)
    static func clear() {
        guard let record else { return }
        depth = max(0, depth - 1)
        if depth > 0, let mark = outer.popLast() {
            write(record, mark.plugin, mark.file, mark.what)
        } else {
            plexus_blame_clear(record)
        }
    }

    /// Runs `body` marked as `plugin` running `what`.
    @inline(__always)
    static func around<T>(_ plugin: PluginInstance, _ what: @autoclosure () -> String, _ body: () throws -> T) rethrows -> T {
        mark(plugin: plugin, what: what())
        defer { clear() }
        return try body()
    }

    /// Runs `body` on the calling thread (not the loop thread: a pool thread) marked as `plugin`
    /// (from `file`) running `what`, in the calling thread's slot of the record. Any thread.
    @inline(__always)
    static func offLoop<T>(plugin: String, file: String, what: String, _ body: () throws -> T) rethrows -> T {
        guard let record else { return try body() }
        _ = plugin.withCString { p in file.withCString { f in what.withCString { w in plexus_blame_thread_enter(record, p, f, w) } } }
        defer { plexus_blame_thread_leave(record) }
        return try body()
    }

    /// Tells the master whether this worker is ready (serving) or not (with the problems).
    static func reportReady(_ ready: Bool, problems: String) {
        guard let record else { return }
        problems.withCString { plexus_blame_set_ready(record, ready ? 1 : 2, $0) }
    }

    /// Bumps the heartbeat the master's watchdog watches.
    static func beat() {
        if let record { plexus_blame_beat(record) }
    }

    private static func push(_ plugin: String, _ file: String, _ what: String) {
        if depth > 0, let written { outer.append(written) }
        depth += 1
        write(record!, plugin, file, what)
    }

    private static func write(_ record: UnsafeMutablePointer<plexus_blame_record>, _ plugin: String, _ file: String, _ what: String) {
        if let written, written.what == what, written.plugin == plugin, written.file == file {
            plexus_blame_reactivate(record)
            return
        }
        written = (plugin, file, what)
        plugin.withCString { p in file.withCString { f in what.withCString { w in plexus_blame_set(record, p, f, w) } } }
    }
}
