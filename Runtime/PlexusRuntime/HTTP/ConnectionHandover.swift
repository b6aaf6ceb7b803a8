import CPlexusShims
import Foundation
import Logging

/// A supervised worker's end of the connection handover with its master.
///
/// Every accepted connection's descriptor goes to the master (one `sendmsg` per connection, over
/// the SOCK_SEQPACKET channel the master made at spawn), tagged with a slot of the table the two
/// share. The connection keeps its slot's state current with plain stores (``publish(_:_:)``; no
/// system call per request), so when this worker dies the master knows which connections sat at
/// a request boundary and hands those to the next worker, which adopts them like fresh accepts
/// (``adopt``). Because the master holds a copy of every descriptor, a connection that really
/// ends is shut down (``release(_:fd:)``), not only closed, and the master is told to drop its
/// copy (batched). Loop thread only.
final class ConnectionHandover {
    /// The slot of a connection the master does not know (table full, channel full).
    static let noSlot = UInt32.max

    private let channel: Int32
    private let table: UnsafeMutableRawPointer
    private let logger: Logger
    /// Slots not in use whose end the master already knows, lowest last.
    private var freeSlots: [UInt32]
    /// Slots of connections closed since the master was last told (not reused before it is).
    private var closedSlots: [UInt32] = []
    /// The table's plugin index of each mounted plugin.
    private var pluginIndex: [ObjectIdentifier: UInt32] = [:] {
        didSet { lastLookup = nil }
    }
    /// The last answer of ``state(inFlightIn:)``: a connection publishes its state several times
    /// per request, nearly always for the plugin of the request before.
    private var lastLookup: (plugin: ObjectIdentifier, state: UInt32)?
    private var poll: LoopPoll?
    private var flushTimer: LoopTimer?
    /// Called with each connection the master hands over (descriptor and slot), once started.
    private var adopt: ((Int32, UInt32) -> Void)?

    /// Maps the shared table behind `tableFD` (and closes that descriptor); `channelFD` is the
    /// worker's end of the master's socketpair.
    init(channelFD: Int32, tableFD: Int32, logger: Logger) throws {
        guard let table = plexus_handover_table_map(tableFD) else {
            throw RuntimeError.config("the master's connection table (descriptor \(tableFD)) cannot be mapped: \(String(cString: strerror(errno))); start workers through `plexus serve --supervise`")
        }
        close(tableFD)
        _ = fcntl(channelFD, F_SETFD, FD_CLOEXEC)
        _ = fcntl(channelFD, F_SETFL, fcntl(channelFD, F_GETFL) | O_NONBLOCK)
        self.channel = channelFD
        self.table = table
        self.logger = logger
        // Slots the master filled before this worker started hold connections it hands over.
        freeSlots = stride(from: plexus_handover_slot_count, to: 0, by: -1).map { $0 - 1 }.filter { plexus_slot_load(table, $0) == plexus_slot_free }
    }

    /// Names the mounted plugins in the table (slot states name a plugin by index).
    func name(_ plugins: [PluginInstance]) {
        for plugin in plugins where pluginIndex[ObjectIdentifier(plugin)] == nil && UInt32(pluginIndex.count) < plexus_handover_plugin_count {
            let index = UInt32(pluginIndex.count)
            pluginIndex[ObjectIdentifier(plugin)] = index
            plugin.name.withCString { plexus_handover_table_set_plugin(table, index, $0) }
        }
    }

    /// The slot state of a request in flight in `plugin`.
    func state(inFlightIn plugin: PluginInstance) -> UInt32 {
        let id = ObjectIdentifier(plugin)
        if let lastLookup, lastLookup.plugin == id { return lastLookup.state }
        let state = pluginIndex[id].map { plexus_slot_plugin + $0 } ?? plexus_slot_busy
        lastLookup = (id, state)
        return state
    }

    /// Starts taking the connections the master hands over (queued on the channel until now),
    /// and the batched close notices.
    func start(loop: EventLoop, adopt: @escaping (Int32, UInt32) -> Void) {
        self.adopt = adopt
        poll = LoopPoll(loop: loop, fd: channel) { [unowned self] in receive() }
        poll?.unref()
        let timer = LoopTimer(loop: loop)
        timer.start(afterMilliseconds: 50, repeatingMilliseconds: 50) { [unowned self] in
            if !closedSlots.isEmpty { flushClosed() }
        }
        timer.unref()
        flushTimer = timer
        receive()
    }

    /// Gives a newly accepted connection a slot and its descriptor to the master; returns the
    /// slot, or ``noSlot`` when the master cannot keep it (the connection is served all the same).
    func register(fd: Int32) -> UInt32 {
        guard let slot = freeSlots.popLast() else { return Self.noSlot }
        plexus_slot_store(table, slot, plexus_slot_idle)
        var words = closedSlots.map { plexus_handover_word(plexus_handover_closed, $0) }
        words.append(plexus_handover_word(plexus_handover_open, slot))
        var descriptor = fd
        let status = plexus_handover_send(channel, words, words.count, &descriptor, 1)
        guard status == 0 else {
            plexus_slot_store(table, slot, plexus_slot_free)
            freeSlots.append(slot)
            if status != -EAGAIN { logger.warning("connection not registered with the master: \(String(cString: strerror(-status)))") }
            return Self.noSlot
        }
        freeSlots.append(contentsOf: closedSlots)
        closedSlots.removeAll(keepingCapacity: true)
        return slot
    }

    /// Publishes a connection's state (a plain store to the shared table).
    @inline(__always)
    func publish(_ slot: UInt32, _ state: UInt32) {
        if slot != Self.noSlot { plexus_slot_store(table, slot, state) }
    }

    /// A connection ends: shut down (the master's copy keeps the socket open otherwise), marked
    /// free, and the master told with the next batch.
    func release(_ slot: UInt32, fd: Int32) {
        guard slot != Self.noSlot else { return }
        if fd >= 0 { shutdown(fd, Int32(SHUT_RDWR)) }
        plexus_slot_store(table, slot, plexus_slot_free)
        closedSlots.append(slot)
        if closedSlots.count >= 256 { flushClosed() }
    }

    private func flushClosed() {
        let words = closedSlots.map { plexus_handover_word(plexus_handover_closed, $0) }
        guard plexus_handover_send(channel, words, words.count, nil, 0) == 0 else { return }  // full: the next flush retries
        freeSlots.append(contentsOf: closedSlots)
        closedSlots.removeAll(keepingCapacity: true)
    }

    /// Adopts every connection the master sent: words are slots, one descriptor each.
    private func receive() {
        var words = [UInt32](repeating: 0, count: Int(plexus_handover_max_fds))
        var fds = [Int32](repeating: -1, count: Int(plexus_handover_max_fds))
        while true {
            var fdCount = 0
            let count = plexus_handover_receive(channel, &words, words.count, &fds, &fdCount)
            if count <= 0 {
                if count == 0 || (count != -Int(EAGAIN) && count != -Int(EINTR)) {
                    poll?.close()
                    poll = nil
                }
                return
            }
            for index in 0..<fdCount {
                guard index < count, words[index] < plexus_handover_slot_count else {
                    close(fds[index])
                    continue
                }
                adopt?(fds[index], words[index])
            }
        }
    }
}
