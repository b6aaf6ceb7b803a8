import CPlexusShims

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
    static func read(_ record: UnsafePointer<plexus_blame_record>) -> BlameCulprit? {
        let crashed = record.pointee.crashed_thread
        if crashed == 0 || crashed == record.pointee.loop_thread {
            guard record.pointee.active != 0 else { return nil }
            var copy = record.pointee
            return BlameCulprit(plugin: text(&copy.plugin), file: text(&copy.file), what: text(&copy.what)).nonEmpty
        }
        var slots = record.pointee.threads
        return withUnsafeBytes(of: &slots) { raw -> BlameCulprit? in
            for var slot in raw.bindMemory(to: plexus_blame_slot.self) where slot.thread == crashed && slot.active != 0 {
                return BlameCulprit(plugin: text(&slot.plugin), file: text(&slot.file), what: text(&slot.what)).nonEmpty
            }
            return nil
        }
    }

    private var nonEmpty: BlameCulprit? { plugin.isEmpty ? nil : self }

    private static func text<T>(_ tuple: inout T) -> String {
        withUnsafeBytes(of: &tuple) { bytes in String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self) }
    }
}
