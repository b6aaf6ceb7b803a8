import Foundation
import PlexusEventLog

/// `GET /api/v1/events/ws`: the bus over WebSocket (RFC 6455), sibling of the Server-Sent
/// Events stream. Optional `?topic=<pattern>` (repeatable) subscribes at once; see
/// ``WebSocketSession`` for the message protocol.
enum WebSocketEndpoint {
    static func install(on server: HTTPServer, events: EventRouter, pingMilliseconds: UInt64, sessions: LiveSessions) {
        let routes = server.pipeline.registry
        routes.addBuiltin("GET", "/api/v1/events/ws", BuiltinEndpoint(access: .authenticated, streams: true) { [unowned server, unowned events] exchange, respond in
            let accept: String
            do throws(WebSocketHandshake.Refusal) {
                accept = try WebSocketHandshake.validate(exchange)
            } catch {
                var response = BuiltinResponse.problem(error.status, error.detail, exchange)
                response.headers.append(contentsOf: error.headers)
                return respond(response)
            }
            let patterns: [TopicPattern]
            do {
                patterns = try QueryParameters(exchange.query).all("topic").map { try TopicPattern($0) }
            } catch {
                return respond(BuiltinResponse.problem(400, "query parameter 'topic': \(error)", exchange))
            }
            let session = WebSocketSession(connection: exchange.connection, events: events, loop: server.loop, pingMilliseconds: pingMilliseconds,
                                           tenant: EventTenancy.scope(of: exchange, server: server), sessions: sessions)
            guard server.upgrade(exchange, headers: [("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Accept", accept)],
                                 to: session) else { return }
            sessions.add(session, caller: exchange.caller)
            session.start(patterns: patterns)
        })
    }
}
