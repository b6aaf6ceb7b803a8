import CPlexusShims
import Foundation

/// The plugin code a dead worker was running, read by the master from its shared record: the
/// mark of the thread that took the fatal signal (the loop thread's, or a pool thread's slot).
struct BlameCulprit: Equatable {
    /// The plugin's name (its file name while it was being loaded).
    var plugin: String
    /// The plugin's file name.
    var file: String
    /// The hook, route, timer or off-loop work it was running.
    var what: String

    /// The culprit in `record`, or nil when no plugin code ran on the thread that crashed.
    ///
    /// A worker killed from outside (watchdog, memory limit) has no crashing thread: the loop
    /// thread's mark names the culprit then. A crash on another thread is blamed on that thread's
    /// slot only, never on whatever the loop thread was running meanwhile.
    ///
    /// When no mark names the culprit (a thread the plugin started itself, a dispatch worker of
    /// its off-loop work) and the worker `pid` still runs (it writes its backtrace), the crash
    /// address is looked up in the worker's memory map: inside a plugin's private copy it blames
    /// that plugin's file.
    static func read(_ record: UnsafePointer<plexus_blame_record>, pid: pid_t? = nil) -> BlameCulprit? {
        if let marked = readMark(record) { return marked }
        let address = record.pointee.crashed_address
        guard address != 0 else { return nil }
        var copy = record.pointee
        let mapped = FixedCString.text(&copy.crashed_path)
        // The crash handler names the mapping; a worker that died before writing it is looked up live.
        guard let file = mapped.isEmpty ? pid.flatMap({ pluginFile(containing: address, pid: $0) }) : pluginFile(mappedAt: mapped) else { return nil }
        return BlameCulprit(plugin: file, file: file,
                            what: "code on thread \(record.pointee.crashed_thread), which no mark covers (found by the crash address 0x\(String(address, radix: 16)))")
    }

    /// The plugin file (as named in the plugins directory) whose private copy maps `address` in
    /// process `pid`, from `/proc/<pid>/maps`.
    static func pluginFile(containing address: UInt64, pid: pid_t) -> String? {
        guard let maps = readWhole("/proc/\(pid)/maps") else { return nil }
        for line in maps.split(separator: "\n") {
            // start-end perms offset dev inode path
            let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            guard fields.count == 6, let dash = fields[0].firstIndex(of: "-"),
                  let start = UInt64(fields[0][..<dash], radix: 16), let end = UInt64(fields[0][fields[0].index(after: dash)...], radix: 16),
                  start <= address, address < end else { continue }
            return pluginFile(mappedAt: fields[5].trimmingCharacters(in: .whitespaces))
        }
        return nil
    }

    /// The plugin file (as named in the plugins directory) whose private copy is at `path`; nil
    /// for any other mapping.
    static func pluginFile(mappedAt path: String) -> String? {
        guard path.contains("/plugin-cache/") else { return nil }
        // Private copies are named <pid>-<8 characters>-<file> (PluginImage).
        let parts = (path.split(separator: "/").last ?? "").split(separator: "-", maxSplits: 2)
        return parts.count == 3 ? String(parts[2]) : nil
    }

    /// A procfs file read to its end (its size reads as 0, and each read returns about a page).
    private static func readWhole(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while bytes.count < 16 << 20 {
            let got = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else { break }
            bytes += buffer[0..<got]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func readMark(_ record: UnsafePointer<plexus_blame_record>) -> BlameCulprit? {
        let crashed = record.pointee.crashed_thread
        if crashed == 0 || crashed == record.pointee.loop_thread {
            guard record.pointee.active != 0 else { return nil }
            var copy = record.pointee
            return BlameCulprit(plugin: FixedCString.text(&copy.plugin), file: FixedCString.text(&copy.file), what: FixedCString.text(&copy.what)).nonEmpty
        }
        var slots = record.pointee.threads
        return withUnsafeBytes(of: &slots) { raw -> BlameCulprit? in
            for var slot in raw.bindMemory(to: plexus_blame_slot.self) where slot.thread == crashed && slot.active != 0 {
                return BlameCulprit(plugin: FixedCString.text(&slot.plugin), file: FixedCString.text(&slot.file), what: FixedCString.text(&slot.what)).nonEmpty
            }
            return nil
        }
    }

    private var nonEmpty: BlameCulprit? { plugin.isEmpty ? nil : self }
}
