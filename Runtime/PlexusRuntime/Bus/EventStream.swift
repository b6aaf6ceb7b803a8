import Foundation
import PlexusEventLog

/// One Server-Sent Events client: replays durable events after `Last-Event-ID`, then live
/// events, with heartbeats; ends when the client goes away or stalls, or when its credentials
/// are revoked or expire (``LiveSessions``).
///
/// The live subscription starts before the replay and buffers, so nothing published during
/// the replay is missed; buffered events already sent by the replay are skipped. Once every
/// pattern's subscription is complete (on PostgreSQL storage: the change log of every plugin
/// whose `storage.…` topics it may match runs) the client gets one `event: subscribed` frame,
/// without `id:`, whose data is `{"topics": [<pattern>, …]}`: every event published after it
/// reaches the client, as a WebSocket client's `subscribed` answer says. A client
/// confined to a tenant has its events filtered before they are queued (live) and in the
/// query (replay), so other tenants' events neither reach it nor take its queue's room.
final class EventStream: LiveSession {
    private let stream: HTTPStream
    private let patterns: [TopicPattern]
    private let events: EventRouter
    private let loop: EventLoop
    private let heartbeatMilliseconds: UInt64
    private let format: SSEEncoding.Format
    private weak var sessions: LiveSessions?
    private var subscriptions: [UInt64] = []
    private var replaying = false
    private var buffered: [EventEnvelope] = []
    private var sentDuringReplay = Set<ULID>()
    private var heartbeat: LoopTimer?
    private var keepAlive: EventStream?

    /// The tenant this client is confined to (nil: every event).
    private let tenant: String?

    init(stream: HTTPStream, patterns: [TopicPattern], events: EventRouter, loop: EventLoop, heartbeatMilliseconds: UInt64,
         tenant: String? = nil, format: SSEEncoding.Format = .standard, sessions: LiveSessions? = nil) {
        self.tenant = tenant
        self.stream = stream
        self.patterns = patterns
        self.events = events
        self.loop = loop
        self.heartbeatMilliseconds = heartbeatMilliseconds
        self.format = format
        self.sessions = sessions
    }

    func start(resumeFrom: ULID?) {
        keepAlive = self
        stream.onClose = { [unowned self] in stop() }
        stream.send(Array("retry: 2000\n\n".utf8))
        events.notices(self) { [unowned self] text in
            stream.send(Array(": \(String(decoding: SSEEncoding.singleLine(text), as: UTF8.self))\n\n".utf8))
        }
        let tenant = tenant
        // `ready` runs on the loop, possibly within `subscribe`; the stream may have ended by then.
        var incomplete = patterns.count
        let ready: () -> Void = { [weak self] in
            incomplete -= 1
            if incomplete == 0 { self?.sendSubscribed() }
        }
        for pattern in patterns {
            do {
                subscriptions.append(try events.subscribe(pattern, owner: "sse", queueLimit: 10_000, overflow: .dropOldest, durableGroup: nil, maxAttempts: 0,
                                                          filter: tenant.map { scope in { EventTenancy.visible($0, to: scope) } },
                                                          ready: { _ in ready() }, deliver: { [unowned self] event in live(event) }))
            } catch {
                ready()
            }
        }
        let timer = LoopTimer(loop: loop)
        heartbeat = timer
        timer.start(afterMilliseconds: heartbeatMilliseconds, repeatingMilliseconds: heartbeatMilliseconds) { [unowned self] in
            stream.send(Array(": heartbeat\n\n".utf8))
        }
        if let resumeFrom {
            replaying = true
            replay(after: resumeFrom)
        }
    }

    /// Ends the stream: its credentials no longer hold. A last comment says why (a client that
    /// reconnects with the same credentials is refused with the reason).
    func endForCredentials(_ reason: String) {
        guard stream.isOpen else { return }
        _ = stream.send(Array(": stream ended: \(String(decoding: SSEEncoding.singleLine(reason), as: UTF8.self))\n\n".utf8))
        stream.finish()
    }

    private func replay(after id: ULID) {
        guard let log = events.log else {
            finishReplay()
            return
        }
        let pattern = patterns.count == 1 ? patterns[0] : (try! TopicPattern("#"))
        log.events(matching: pattern, since: .id(id), limit: 1_000, tenant: tenant, completion: loop.bounce { [weak self] (result: Result<[EventEnvelope], EventLogError>) in
            guard let self, self.stream.isOpen else { return }
            guard case .success(let page) = result else { return self.finishReplay() }
            for event in page where self.matches(event.topic) {
                self.sentDuringReplay.insert(event.id)
                self.send(event)
            }
            if page.count == 1_000, let last = page.last {
                self.replay(after: last.id)
            } else {
                self.finishReplay()
            }
        })
    }

    private func finishReplay() {
        replaying = false
        for event in buffered where !sentDuringReplay.contains(event.id) { send(event) }
        buffered.removeAll()
        sentDuringReplay.removeAll()
    }

    private func matches(_ topic: String) -> Bool {
        patterns.contains { $0.matches(topic) }
    }

    private func live(_ event: EventEnvelope) {
        if replaying {
            buffered.append(event)
        } else {
            send(event)
        }
    }

    private var pending: [UInt8] = []
    private var flushScheduled = false

    /// The `subscribed` frame: every pattern's subscription is complete.
    private func sendSubscribed() {
        guard stream.isOpen else { return }
        let topics = String(decoding: try! JSONSerialization.data(withJSONObject: ["topics": patterns.map(\.description)]), as: UTF8.self)
        queue(Array("event: subscribed\ndata: \(topics)\n\n".utf8))
    }

    /// Queues the event's frame; frames queued in one loop turn leave in one write.
    private func send(_ event: EventEnvelope) {
        guard EventTenancy.visible(event, to: tenant) else { return }
        queue(events.sseFrames.frame(for: event, format: format))
    }

    private func queue(_ frame: [UInt8]) {
        pending.append(contentsOf: frame)
        guard !flushScheduled else { return }
        flushScheduled = true
        loop.execute { [weak self] in
            guard let self else { return }
            flushScheduled = false
            let frames = pending
            pending.removeAll(keepingCapacity: true)
            stream.send(frames)
        }
    }

    private func stop() {
        for id in subscriptions { events.unsubscribe(id) }
        subscriptions.removeAll()
        events.stopNotices(self)
        heartbeat?.close()
        heartbeat = nil
        sessions?.remove(self)
        keepAlive = nil
    }
}
