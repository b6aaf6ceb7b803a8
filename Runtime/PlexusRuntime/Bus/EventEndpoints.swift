import Foundation
import Logging
import PlexusEventLog

/// The bus over HTTP: publish, query the durable log, stream live events (Server-Sent Events,
/// resumable with `Last-Event-ID`), list and re-drive dead letters, and the event catalogue.
enum EventEndpoints {
    /// Installs the bus endpoints: `group` names the topics plugins declare (the catalogue), the
    /// heartbeat and ping intervals pace SSE streams and WebSocket sessions.
    static func install(on server: HTTPServer, events: EventRouter, group: PluginGroup, logger: Logger,
                        sseHeartbeatMilliseconds: UInt64, wsPingMilliseconds: UInt64) {
        let routes = server.pipeline.registry
        let sessions = LiveSessions(loop: server.loop, keys: { [unowned server] in server.gateway?.keys })
        routes.addBuiltin("POST", "/api/v1/events", BuiltinEndpoint(access: .authenticated, summary: "Publish an event, or query the durable log") { [unowned server, unowned events] exchange, respond in
            var request: PublishRequest
            do {
                request = try PublishRequest(exchange.body)
                try EventTenancy.confine(&request.envelope, to: EventTenancy.scope(of: exchange, server: server))
            } catch let error as EventTenancy.Refusal {
                return respond(.problem(403, error.description, exchange))
            } catch {
                return respond(.problem(400, "\(error)", exchange))
            }
            if let refusal = events.reservations.refusal(of: request.envelope.topic, by: .client) {
                return respond(.problem(403, refusal, exchange))
            }
            events.publish(request.envelope, durable: request.durable) { result in
                switch result {
                case .success(let event):
                    respond(BuiltinResponse(status: 202, headers: [("Content-Type", "application/json")],
                                            body: EventJSON.receipt(event, durable: request.durable)))
                case .failure(let failure) where failure.shownToClient:
                    respond(.problem(503, failure.description, exchange))
                case .failure(let failure):
                    respond(.internalFailure(503, "publish failed", failure, exchange, logger: logger))
                }
            }
        })
        routes.addBuiltin("GET", "/api/v1/events", BuiltinEndpoint(access: .authenticated, summary: "Publish an event, or query the durable log") { [unowned server, unowned events] exchange, respond in
            let query = QueryParameters(exchange.query)
            let limit = min(max(Int(query["limit"] ?? "") ?? 100, 1), 10_000)
            let pattern: TopicPattern, since: StartPosition
            do {
                pattern = try TopicPattern(query["topic"] ?? "#")
                since = try startPosition(query["since"])
            } catch {
                return respond(.problem(400, "\(error)", exchange))
            }
            guard let log = events.log else { return respond(.problem(503, "the durable event log is not open", exchange)) }
            let tenant = EventTenancy.scope(of: exchange, server: server)
            log.events(matching: pattern, since: since, limit: limit, tenant: tenant, completion: server.loop.bounce { (result: Result<[EventEnvelope], EventLogError>) in
                switch result {
                case .success(let list):
                    respond(BuiltinResponse.json(list.map(EventJSON.object)))
                case .failure(let error): respond(.internalFailure(500, "query failed", error, exchange, logger: logger))
                }
            })
        })
        routes.addBuiltin("GET", "/api/v1/events/stream", BuiltinEndpoint(access: .authenticated, streams: true) { [unowned server, unowned events] exchange, respond in
            let query = QueryParameters(exchange.query)
            let patterns: [TopicPattern], format: SSEEncoding.Format
            do {
                patterns = try query.all("topic").map { try TopicPattern($0) }
                guard !patterns.isEmpty else { throw EventStreamError("query parameter 'topic' is required (a pattern such as 'ticket.#')") }
                let formatName = query["format"] ?? SSEEncoding.Format.standard.rawValue
                guard let known = SSEEncoding.Format(rawValue: formatName) else {
                    throw EventStreamError("query parameter 'format' must be 'standard' (event: <topic> lines) or 'message' (plain message events with the topic in the data), found '\(formatName)'")
                }
                format = known
            } catch {
                return respond(.problem(400, "\(error)", exchange))
            }
            let lastEventID = exchange.header("last-event-id").map { String(decoding: $0, as: UTF8.self) } ?? query["last_event_id"]
            var resumeFrom: ULID?
            if let lastEventID, !lastEventID.isEmpty {
                guard let id = ULID(lastEventID) else { return respond(.problem(400, "Last-Event-ID '\(lastEventID)' is not an event id", exchange)) }
                resumeFrom = id
            }
            guard let stream = server.beginStream(exchange, headers: [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache")]) else { return }
            let client = EventStream(stream: stream, patterns: patterns, events: events, loop: server.loop,
                                     heartbeatMilliseconds: sseHeartbeatMilliseconds,
                                     tenant: EventTenancy.scope(of: exchange, server: server), format: format, sessions: sessions)
            sessions.add(client, caller: exchange.caller)
            client.start(resumeFrom: resumeFrom)
        })
        routes.addBuiltin("POST", "/api/v1/events/tickets", BuiltinEndpoint(access: .authenticated, summary: "A single-use ticket that opens one event stream (SSE or WebSocket) within 30 s", successStatus: 201) { [unowned server] exchange, respond in
            guard let gateway = server.gateway, let caller = exchange.caller else {
                return respond(.problem(404, "stream tickets need the gateway: this runtime has no credentials to issue them for", exchange))
            }
            guard let issued = gateway.streamTickets.issue(for: caller, now: Date().timeIntervalSince1970) else {
                return respond(.problem(429, "\(StreamTickets.maxOutstanding) stream tickets are outstanding; use or let some expire (\(Int(StreamTickets.lifetimeSeconds)) s) first", exchange))
            }
            respond(BuiltinResponse.json(status: 201, [
                "ticket": issued.ticket, "expires_in": Int(StreamTickets.lifetimeSeconds),
                "expires_at": ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: issued.expiresAt)),
                "parameter": StreamTickets.parameter, "paths": StreamTickets.streamPaths.sorted(),
            ]))
        })
        WebSocketEndpoint.install(on: server, events: events, pingMilliseconds: wsPingMilliseconds, sessions: sessions)
        routes.addBuiltin("GET", "/api/v1/events/deadletters", BuiltinEndpoint(access: .admin, summary: "Dead letters of durable consumer groups") { [unowned events] exchange, respond in
            guard let group = QueryParameters(exchange.query)["group"], !group.isEmpty else {
                return respond(.problem(400, "query parameter 'group' is required", exchange))
            }
            guard let log = events.log else { return respond(.problem(503, "the durable event log is not open", exchange)) }
            log.deadLetters(group: group, completion: server.loop.bounce { (result: Result<[DeadLetter], EventLogError>) in
                switch result {
                case .success(let letters):
                    respond(BuiltinResponse.json(letters.map { letter in
                        ["group": letter.group, "event_id": letter.eventID.description, "attempts": letter.attempts,
                         "reason": letter.lastReason, "time": ISO8601DateFormatter().string(from: letter.time)]
                    }))
                case .failure(let error): respond(.problem(404, "\(error)", exchange))
                }
            })
        })
        routes.addBuiltin("POST", "/api/v1/events/deadletters/redrive", BuiltinEndpoint(access: .admin, summary: "Re-deliver dead letters") { [unowned events] exchange, respond in
            let object = (try? JSONSerialization.jsonObject(with: Data(UnsafeRawBufferPointer(start: exchange.body.base, count: exchange.body.count)))) as? [String: Any]
            guard let group = object?["group"] as? String, let idText = object?["id"] as? String, let id = ULID(idText) else {
                return respond(.problem(400, "body must be {\"group\": \"…\", \"id\": \"<event id>\"}", exchange))
            }
            guard let log = events.log else { return respond(.problem(503, "the durable event log is not open", exchange)) }
            log.redrive(group: group, id: id, completion: server.loop.bounce { (result: Result<Void, EventLogError>) in
                switch result {
                case .success: respond(BuiltinResponse.json(status: 202, ["group": group, "id": idText, "redriven": true]))
                case .failure(let error): respond(.problem(404, "\(error)", exchange))
                }
            })
        })
        DeadLetterGroupsEndpoint.install(on: server, events: events)
        routes.addBuiltin("GET", "/api/v1/events/catalogue", BuiltinEndpoint(access: .authenticated, summary: "Topics the plugins declare") { [unowned group] _ in
            let topics = group.plugins.compactMap(\.manifest).flatMap { manifest in
                manifest.publishes.map { ["plugin": manifest.name, "topic": $0.topic, "schema_version": $0.schemaVersion, "description": $0.description] as [String: Any] }
            }
            return BuiltinResponse.json(topics)
        })
    }

    /// `since` as an event id (ULID) or an ISO 8601 time; absent means the beginning.
    static func startPosition(_ text: String?) throws -> StartPosition {
        guard let text, !text.isEmpty else { return .beginning }
        if let id = ULID(text) { return .id(id) }
        if let date = ISO8601DateFormatter().date(from: text) { return .time(date) }
        throw EventStreamError("'since' must be an event id or an ISO 8601 time, found '\(text)'")
    }
}

/// A bad request to the event endpoints.
struct EventStreamError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
