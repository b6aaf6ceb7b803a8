import Foundation
import PlexusEventLog

/// `GET /api/v1/events/deadletters/groups` (admin): every durable consumer group with its number of dead
/// letters, so an operator picks a group instead of typing its name. The embedded event log lists every group
/// it stores; another store (Redis Streams) lists the groups this worker's plugins consume, each counted with
/// its dead-letter list.
enum DeadLetterGroupsEndpoint {
    static func install(on server: HTTPServer, events: EventRouter) {
        server.pipeline.registry.addBuiltin("GET", "/api/v1/events/deadletters/groups", BuiltinEndpoint(access: .admin, summary: "Durable consumer groups and their dead-letter counts") { [unowned server, unowned events] exchange, respond in
            guard let log = events.log else { return respond(.problem(503, "the durable event log is not open", exchange)) }
            let answer = { (groups: [DeadLetterGroup]) in
                respond(BuiltinResponse.json(["groups": groups.map { ["group": $0.group, "dead_letters": $0.count] as [String: Any] }]))
            }
            if let embedded = log as? EventLog {
                embedded.deadLetterGroups(completion: server.loop.bounce { (result: Result<[DeadLetterGroup], EventLogError>) in
                    switch result {
                    case .success(let groups): answer(groups)
                    case .failure(let error): respond(.problem(503, "listing the consumer groups failed: \(error)", exchange))
                    }
                })
                return
            }
            count(events.durableGroupNames, in: log, loop: server.loop, counted: [], done: answer)
        })
    }

    /// Counts the dead letters of `names` one after the other (a group the store does not know counts 0).
    private static func count(_ names: [String], in log: any DurableStore, loop: EventLoop, counted: [DeadLetterGroup],
                              done: @escaping ([DeadLetterGroup]) -> Void) {
        guard let name = names.first else { return done(counted) }
        log.deadLetters(group: name, completion: loop.bounce { (result: Result<[DeadLetter], EventLogError>) in
            let found = (try? result.get().count) ?? 0
            count(Array(names.dropFirst()), in: log, loop: loop, counted: counted + [DeadLetterGroup(group: name, count: found)], done: done)
        })
    }
}
