import CPlexusShims
import Foundation
import Logging

/// The master's copy of every connection one worker generation serves, so that a crash of that
/// worker drops only the connections that had a request in flight.
///
/// The worker sends each accepted connection's descriptor over the channel made here (the
/// worker's end becomes its descriptor ``workerChannelFD``, the shared slot table
/// ``workerTableFD``; see ``ConnectionHandover`` for the worker's side). When the worker dies,
/// ``takeOver(blaming:)`` sorts its connections by the state the worker last published:
/// - at a request boundary: handed to the next worker, which adopts them (the client's next
///   request is answered there, on the same socket);
/// - a request in flight in the plugin blamed for the crash: `502` (problem+json, `Connection: close`);
/// - a request in flight elsewhere or half received: `503` with `Retry-After: 1` and
///   `Connection: close` (whether a request that was in flight took effect is unknown);
/// - an answer partly written, a stream or an upgraded connection: closed.
/// Loop thread of the master only.
final class ConnectionKeeper {
    /// Where the worker finds its end of the channel and the slot table.
    static let workerChannelFD: Int32 = 4
    static let workerTableFD: Int32 = 5

    /// How a dead worker's connections were dealt with.
    struct Outcome: CustomStringConvertible {
        var handedOver = 0, badGateway = 0, unavailable = 0, closed = 0
        var description: String {
            "\(handedOver) handed to the next worker, \(badGateway) answered 502, \(unavailable) answered 503, \(closed) closed"
        }
    }

    private let logger: Logger
    private let channel: Int32
    /// The worker's ends, closed once the worker has them.
    private var workerChannel: Int32
    private var tableFD: Int32
    private let table: UnsafeMutableRawPointer
    /// Descriptor copies by slot.
    private var copies: [UInt32: Int32] = [:]
    /// Connections handed over from a dead worker, not sent to this one yet.
    private var adoptions: [UInt32] = []
    private var poll: LoopPoll?
    private var retry: LoopTimer?
    private var closed = false

    /// Makes the channel and the table for a worker about to start, with `adopted` (connections
    /// of a worker that died) in the first slots. Nil (and `adopted` closed) when the system refuses.
    static func prepare(adopting adopted: [Int32], logger: Logger) -> ConnectionKeeper? {
        do {
            let keeper = try ConnectionKeeper(logger: logger)
            keeper.reserve(adopted)
            return keeper
        } catch {
            logger.error("connection handover off for the next worker: \(error)")
            for fd in adopted { Glibc.close(fd) }
            return nil
        }
    }

    private init(logger: Logger) throws {
        self.logger = logger
        var pair: [Int32] = [-1, -1]
        let paired = plexus_handover_socketpair(&pair)
        guard paired == 0 else { throw RuntimeError.config("socketpair for the connection handover: \(String(cString: strerror(-paired)))") }
        let fd = plexus_handover_table_create()
        guard fd >= 0, let table = plexus_handover_table_map(fd) else {
            Glibc.close(pair[0])
            Glibc.close(pair[1])
            if fd >= 0 { Glibc.close(fd) }
            throw RuntimeError.config("connection table (memfd) cannot be made: \(String(cString: strerror(fd < 0 ? -fd : errno)))")
        }
        (channel, workerChannel, tableFD, self.table) = (pair[0], pair[1], fd, table)
    }

    /// The descriptors the worker inherits (sources) and where it finds them (targets), and its options.
    var inherited: (sources: [Int32], targets: [Int32], arguments: [String]) {
        ([workerChannel, tableFD], [Self.workerChannelFD, Self.workerTableFD],
         ["--handover-fd", "\(Self.workerChannelFD)", "--connection-table-fd", "\(Self.workerTableFD)"])
    }

    private func reserve(_ adopted: [Int32]) {
        for (index, fd) in adopted.enumerated() {
            guard index < Int(plexus_handover_slot_count) else {
                Glibc.close(fd)
                continue
            }
            let slot = UInt32(index)
            plexus_slot_store(table, slot, plexus_slot_idle)
            copies[slot] = fd
            adoptions.append(slot)
        }
    }

    /// The worker started with its ends: closes them here, sends the adopted connections, and
    /// watches the channel on `loop`.
    func started(loop: EventLoop) {
        Glibc.close(workerChannel)
        Glibc.close(tableFD)
        workerChannel = -1
        tableFD = -1
        poll = LoopPoll(loop: loop, fd: channel) { [unowned self] in receive() }
        poll?.unref()
        sendAdoptions()
        if !adoptions.isEmpty {
            // The channel is full until the worker reads: try again shortly.
            let timer = LoopTimer(loop: loop)
            timer.start(afterMilliseconds: 10, repeatingMilliseconds: 10) { [unowned self] in
                sendAdoptions()
                if adoptions.isEmpty {
                    retry?.close()
                    retry = nil
                }
            }
            timer.unref()
            retry = timer
        }
    }

    private func sendAdoptions() {
        while !adoptions.isEmpty {
            let batch = Array(adoptions.prefix(Int(plexus_handover_max_fds)))
            let fds = batch.map { copies[$0] ?? -1 }
            let status = plexus_handover_send(channel, batch, batch.count, fds, fds.count)
            if status == -EAGAIN { return }
            if status != 0 {
                logger.error("connections not handed to the new worker: \(String(cString: strerror(-status)))")
                for slot in adoptions { drop(slot) }
                adoptions.removeAll()
                return
            }
            adoptions.removeFirst(batch.count)
        }
    }

    /// Takes every message the worker sent: new connections (a copy kept) and closed ones (the copy dropped).
    func receive() {
        guard !closed else { return }
        var words = [UInt32](repeating: 0, count: 1024)
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
            var nextFD = 0
            // The worker runs plugin code: a word it sends is checked, never trusted.
            for word in words[0..<count] {
                let slot = plexus_handover_word_slot(word)
                switch plexus_handover_word_kind(word) {
                case plexus_handover_open:
                    guard nextFD < fdCount else { continue }
                    let fd = fds[nextFD]
                    nextFD += 1
                    guard slot < plexus_handover_slot_count else {
                        Glibc.close(fd)
                        continue
                    }
                    if let old = copies[slot] { Glibc.close(old) }  // a slot is reused only after its close notice
                    copies[slot] = fd
                case plexus_handover_closed:
                    if let old = copies.removeValue(forKey: slot) { Glibc.close(old) }
                default:
                    break
                }
            }
            for index in nextFD..<max(nextFD, fdCount) { Glibc.close(fds[index]) }
        }
    }

    /// The worker died (or froze in its crash handler): returns the connections for the next
    /// worker and answers or closes the others (see the type's documentation). `plugin` is the
    /// plugin blamed for the crash, if any.
    func takeOver(blaming plugin: String?) -> (handed: [Int32], outcome: Outcome) {
        receive()
        // Connections handed to this worker and not sent yet go on to the next one with the rest.
        adoptions.removeAll()
        retry?.close()
        retry = nil
        var blamed: UInt32?
        if let plugin {
            for index in 0..<plexus_handover_plugin_count where String(cString: plexus_handover_table_plugin(table, index)) == plugin {
                blamed = plexus_slot_plugin + index
                break
            }
        }
        var handed: [Int32] = []
        var outcome = Outcome()
        for (slot, fd) in copies.sorted(by: { $0.key < $1.key }) {
            let state = plexus_slot_load(table, slot)
            switch state {
            case plexus_slot_free:
                Glibc.close(fd)  // closed by the worker; its notice was still on the way
            case plexus_slot_idle:
                handed.append(fd)
                outcome.handedOver += 1
            case plexus_slot_unsafe:
                end(fd, answer: nil)
                outcome.closed += 1
            default:
                if state == blamed {
                    end(fd, answer: CrashAnswer.badGateway(plugin: plugin ?? ""))
                    outcome.badGateway += 1
                } else {
                    end(fd, answer: CrashAnswer.unavailable())
                    outcome.unavailable += 1
                }
            }
        }
        copies.removeAll()
        return (handed, outcome)
    }

    /// Writes `answer` (if any), ends the connection for the client, and closes the copy.
    private func end(_ fd: Int32, answer: [UInt8]?) {
        if let answer { _ = answer.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL)) } }
        shutdown(fd, Int32(SHUT_WR))
        // Unread input makes the last close reset the connection (and discard the answer): take it.
        var scratch = [UInt8](repeating: 0, count: 4096)
        while recv(fd, &scratch, scratch.count, Int32(MSG_DONTWAIT)) > 0 {}
        Glibc.close(fd)
    }

    private func drop(_ slot: UInt32) {
        if let fd = copies.removeValue(forKey: slot) { end(fd, answer: nil) }
    }

    /// The worker is gone: closes every copy left (its connections end with it), the channel and the table.
    func close() {
        guard !closed else { return }
        closed = true
        poll?.close()
        poll = nil
        retry?.close()
        retry = nil
        for fd in copies.values { Glibc.close(fd) }
        copies.removeAll()
        Glibc.close(channel)
        if workerChannel >= 0 { Glibc.close(workerChannel) }
        if tableFD >= 0 { Glibc.close(tableFD) }
        plexus_handover_table_unmap(table)
    }
}
