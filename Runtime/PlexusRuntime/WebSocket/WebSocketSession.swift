import CWslay
import Foundation
import PlexusEventLog

/// One WebSocket client of the event bus (`GET /api/v1/events/ws`).
///
/// Framing is wslay's event API, driven entirely by this class: bytes libuv read are fed to
/// wslay through its recv callback, and what wslay sends is collected by its send callback and
/// written to the connection after each round (wslay never touches the socket).
///
/// Protocol (text frames, JSON objects):
/// - client: `{"op":"subscribe","topic":"a.#"}`, `{"op":"unsubscribe","topic":"a.#"}`,
///   `{"op":"publish", …the body of POST /api/v1/events…}`
/// - server: `{"op":"subscribed","topic":…}`, `{"op":"unsubscribed","topic":…}`,
///   `{"op":"published","id":…,"topic":…,"durable":…}`, `{"op":"event", …event JSON…}`,
///   `{"op":"error","detail":…}` (the session stays open).
///
/// Close codes: 1000 echoed for a client's normal close, 1001 on server shutdown, 1002 for
/// protocol errors (wslay: unmasked client frames, bad opcodes…), 1003 for binary frames, 1007
/// for invalid UTF-8, 1008 for more than `maxSubscriptions` subscriptions, 1009 for a message
/// over `maxMessageBytes` and, with 1008 too, when the credentials the session was opened
/// with are revoked or expire. A client whose unsent bytes exceed `sendBufferLimit` (it stopped
/// reading) is disconnected without ceremony. Publishing on a reserved topic is refused with
/// an `error` message. Loop thread only.
final class WebSocketSession: ConnectionTakeover, LiveSession {
    static let maxMessageBytes = 64 * 1024
    static let sendBufferLimit = 1 << 20
    static let maxSubscriptions = 100
    /// How long a close we initiated waits for the client's close before the socket is cut.
    static let closeTimeoutMilliseconds: UInt64 = 2_000

    private unowned(unsafe) var connection: HTTPConnection?
    private let events: EventRouter
    private let loop: EventLoop
    private let pingMilliseconds: UInt64
    private let owner: String
    private var context: wslay_event_context_ptr?
    private var inbound: [UInt8] = []
    private var inboundOffset = 0
    private var outbound: [UInt8] = []
    private var subscriptions: [(pattern: String, id: UInt64)] = []
    private var pingTimer: LoopTimer?
    private var closeTimer: LoopTimer?
    private var lastReceived: UInt64
    /// Nesting of wslay calls; the context is freed only outside them.
    private var depth = 0
    private var ended = false

    /// The tenant this client is confined to (nil: every event).
    private let tenant: String?
    private weak var sessions: LiveSessions?

    init(connection: HTTPConnection, events: EventRouter, loop: EventLoop, pingMilliseconds: UInt64, tenant: String? = nil,
         sessions: LiveSessions? = nil) {
        self.tenant = tenant
        self.sessions = sessions
        self.connection = connection
        self.events = events
        self.loop = loop
        self.pingMilliseconds = max(pingMilliseconds, 10)
        owner = "ws:\(connection.peerAddress)"
        lastReceived = loop.now
        var context: wslay_event_context_ptr?
        let status = wslay_event_context_server_init(&context, &WebSocketSession.callbacks, Unmanaged.passUnretained(self).toOpaque())
        precondition(status == 0, "wslay_event_context_server_init failed: \(status)")
        wslay_event_config_set_max_recv_msg_length(context, UInt64(WebSocketSession.maxMessageBytes))
        self.context = context
    }

    deinit {
        if let context { wslay_event_context_free(context) }
    }

    /// Starts after the `101`: the initial subscriptions (from the query) and the ping timer.
    func start(patterns: [TopicPattern]) {
        for pattern in patterns { subscribe(pattern) }
        let timer = LoopTimer(loop: loop)
        pingTimer = timer
        timer.start(afterMilliseconds: pingMilliseconds, repeatingMilliseconds: pingMilliseconds) { [unowned self] in ping() }
        pump()
    }

    // MARK: ConnectionTakeover

    func connectionRead(_ bytes: UnsafeRawBufferPointer) {
        guard !ended, bytes.count > 0 else { return }
        lastReceived = loop.now
        if inboundOffset == inbound.count {
            inbound.removeAll(keepingCapacity: true)
            inboundOffset = 0
        }
        inbound.append(contentsOf: bytes)
        pump()
    }

    func connectionShutdown() {
        close(code: 1001, reason: "server shutting down")
    }

    func connectionClosed() {
        guard !ended else { return }
        ended = true
        connection = nil
        sessions?.remove(self)
        for subscription in subscriptions { events.unsubscribe(subscription.id) }
        subscriptions.removeAll()
        pingTimer?.close()
        pingTimer = nil
        closeTimer?.close()
        closeTimer = nil
        if depth == 0, let context {
            wslay_event_context_free(context)
            self.context = nil
        }
    }

    // MARK: LiveSession

    /// Closes with 1008 (policy violation): the credentials no longer hold. Nothing the client
    /// sends afterwards is read, so it can neither publish nor subscribe any more.
    func endForCredentials(_ reason: String) {
        close(code: 1008, reason: reason, stopReading: true)
    }

    // MARK: Driving wslay

    /// Lets wslay read what arrived and send what is queued, writes the result, then closes
    /// the connection if the close handshake is over.
    private func pump() {
        withExtendedLifetime(self) {
            guard !ended, let context else { return }
            depth += 1
            var failed = false
            if inboundOffset < inbound.count && wslay_event_want_read(context) != 0 {
                failed = wslay_event_recv(context) != 0
            }
            if !failed && wslay_event_want_write(context) != 0 {
                failed = wslay_event_send(context) != 0
            }
            depth -= 1
            if !outbound.isEmpty {
                let bytes = outbound
                outbound.removeAll(keepingCapacity: true)
                // false: the peer stopped reading and was cut off (or the socket is gone).
                guard connection?.writeStream(bytes, limit: WebSocketSession.sendBufferLimit) == true else { return }
            }
            guard !ended else { return }
            if failed {
                connection?.close()
            } else if wslay_event_get_close_sent(context) != 0 {
                if wslay_event_get_close_received(context) != 0 || wslay_event_get_read_enabled(context) == 0 {
                    // Both closes exchanged, or we closed for an error and read no further.
                    connection?.closeWhenWritten()
                } else if closeTimer == nil {
                    let timer = LoopTimer(loop: loop)
                    closeTimer = timer
                    timer.start(afterMilliseconds: WebSocketSession.closeTimeoutMilliseconds) { [unowned self] in connection?.close() }
                }
            }
        }
    }

    private func recv(_ buffer: UnsafeMutablePointer<UInt8>, _ length: Int) -> Int {
        let available = inbound.count - inboundOffset
        guard available > 0 else {
            wslay_event_set_error(context, WSLAY_ERR_WOULDBLOCK.rawValue)
            return -1
        }
        let count = min(length, available)
        inbound.withUnsafeBufferPointer { buffer.update(from: $0.baseAddress! + inboundOffset, count: count) }
        inboundOffset += count
        return count
    }

    private func send(_ data: UnsafePointer<UInt8>, _ length: Int) -> Int {
        outbound.append(contentsOf: UnsafeBufferPointer(start: data, count: length))
        return length
    }

    private func received(_ message: wslay_event_on_msg_recv_arg) {
        switch UInt32(message.opcode) {
        case WSLAY_TEXT_FRAME.rawValue:
            let bytes = message.msg.map { Array(UnsafeBufferPointer(start: $0, count: message.msg_length)) } ?? []
            handle(bytes)
        case WSLAY_BINARY_FRAME.rawValue:
            close(code: 1003, reason: "binary frames are not supported; send JSON text frames", stopReading: true)
        default:
            break  // close, ping and pong are handled by wslay
        }
    }

    nonisolated(unsafe) private static var callbacks: wslay_event_callbacks = {
        var callbacks = wslay_event_callbacks()
        callbacks.recv_callback = { _, buffer, length, _, user in
            session(user).recv(buffer!, length)
        }
        callbacks.send_callback = { _, data, length, _, user in
            session(user).send(data!, length)
        }
        callbacks.on_msg_recv_callback = { _, argument, user in
            session(user).received(argument!.pointee)
        }
        return callbacks
    }()

    private static func session(_ user: UnsafeMutableRawPointer?) -> WebSocketSession {
        Unmanaged<WebSocketSession>.fromOpaque(user!).takeUnretainedValue()
    }

    // MARK: Sending

    /// Queues a text message and, outside wslay's callbacks, sends it at once.
    private func sendText(_ bytes: [UInt8]) {
        guard !ended, let context else { return }
        let status = bytes.withUnsafeBufferPointer { buffer in
            var message = wslay_event_msg(opcode: UInt8(WSLAY_TEXT_FRAME.rawValue), msg: buffer.baseAddress, msg_length: buffer.count)
            return wslay_event_queue_msg(context, &message)
        }
        if status == 0 && depth == 0 { pump() }
    }

    private func sendJSON(_ object: [String: Any]) {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        sendText(Array(data))
    }

    /// `{"op":"error","detail":…}`, with `"status"` (as HTTP would answer) for refusals.
    private func sendError(_ detail: String, status: Int? = nil) {
        var object: [String: Any] = ["op": "error", "detail": detail]
        if let status { object["status"] = status }
        sendJSON(object)
    }

    /// Starts the closing handshake with `code`; `stopReading` ends the session without waiting
    /// for the client's close (for errors).
    private func close(code: UInt16, reason: String, stopReading: Bool = false) {
        guard !ended, let context else { return }
        var reason = Array(reason.utf8.prefix(120))
        _ = wslay_event_queue_close(context, code, &reason, reason.count)
        if stopReading { wslay_event_shutdown_read(context) }
        if depth == 0 { pump() }
    }

    private func ping() {
        guard !ended, let context else { return }
        if loop.now - lastReceived > 3 * pingMilliseconds {
            // Three pings unanswered: the peer is gone without a FIN.
            connection?.close()
            return
        }
        var message = wslay_event_msg(opcode: UInt8(WSLAY_PING.rawValue), msg: nil, msg_length: 0)
        if wslay_event_queue_msg(context, &message) == 0 { pump() }
    }

    private func deliver(_ event: EventEnvelope) {
        // {"op":"event", …the event's JSON…}: the event object is never empty, so splice after its '{'.
        var bytes = Array(#"{"op":"event","#.utf8)
        bytes.append(contentsOf: EventJSON.bytes(event).dropFirst())
        sendText(bytes)
    }

    // MARK: The protocol

    private func handle(_ bytes: [UInt8]) {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] else {
            return sendError("message must be a JSON object such as {\"op\":\"subscribe\",\"topic\":\"a.#\"}")
        }
        guard let op = object["op"] as? String else { return sendError("field 'op' is required (subscribe, unsubscribe or publish)") }
        switch op {
        case "subscribe", "unsubscribe":
            guard let topic = object["topic"] as? String else { return sendError("\(op): field 'topic' is required (a pattern such as 'ticket.#')") }
            let pattern: TopicPattern
            do {
                pattern = try TopicPattern(topic)
            } catch {
                return sendError("\(op): field 'topic': \(error)")
            }
            if op == "subscribe" {
                subscribe(pattern)
            } else if let index = subscriptions.firstIndex(where: { $0.pattern == pattern.description }) {
                events.unsubscribe(subscriptions.remove(at: index).id)
                sendJSON(["op": "unsubscribed", "topic": pattern.description])
            } else {
                sendError("unsubscribe: not subscribed to '\(pattern.description)'")
            }
        case "publish":
            var request: PublishRequest
            do {
                let body = RawBytes()
                body.append(bytes)
                request = try PublishRequest(body)
                try EventTenancy.confine(&request.envelope, to: tenant)
            } catch {
                return sendError("publish: \(error)")
            }
            if let refusal = events.reservations.refusal(of: request.envelope.topic, by: .client) {
                return sendError("publish: \(refusal)", status: 403)
            }
            events.publish(request.envelope, durable: request.durable) { [weak self] result in
                switch result {
                case .success(let event):
                    self?.sendJSON(["op": "published", "id": event.id.description, "topic": event.topic, "durable": request.durable])
                case .failure(let failure):
                    self?.sendError("publish failed: \(failure)")
                }
            }
        default:
            sendError("unknown op '\(op)' (subscribe, unsubscribe or publish)")
        }
    }

    private func subscribe(_ pattern: TopicPattern) {
        if subscriptions.contains(where: { $0.pattern == pattern.description }) {
            return sendJSON(["op": "subscribed", "topic": pattern.description])
        }
        guard subscriptions.count < WebSocketSession.maxSubscriptions else {
            return close(code: 1008, reason: "more than \(WebSocketSession.maxSubscriptions) subscriptions", stopReading: true)
        }
        do {
            let tenant = tenant
            // "subscribed" once the subscription is complete (on PostgreSQL storage: its change logs run).
            var registered = false, readyBeforeRegistered = false
            let id = try events.subscribe(pattern, owner: owner, queueLimit: 10_000, overflow: .dropOldest, durableGroup: nil, maxAttempts: 0,
                                          filter: tenant.map { scope in { EventTenancy.visible($0, to: scope) } },
                                          ready: { [weak self] _ in
                                              guard registered else { return readyBeforeRegistered = true }
                                              self?.sendJSON(["op": "subscribed", "topic": pattern.description])
                                          },
                                          deliver: { [unowned self] event in deliver(event) })
            subscriptions.append((pattern.description, id))
            registered = true
            if readyBeforeRegistered { sendJSON(["op": "subscribed", "topic": pattern.description]) }
        } catch {
            sendError("subscribe: \(error)")
        }
    }
}
