import Foundation
import PlexusEventLog

/// Where durable topics and consumer groups live: the embedded SQLite ``EventLog`` (the
/// default, one instance), or Redis Streams shared by every instance of a cluster
/// (``RedisStreamStore``).
///
/// Implementation requirements: `append` completes only after the event is stored (and
/// assigns its id, in storage order); `fetch` hands out each event at least once per group,
/// again after a nack or once its delivery stays unsettled past the visibility timeout, and
/// dead-letters it (announcing `deadletter.<group>`) after the configured attempts.
/// Completions may run on any thread: callers wrap them with `EventLoop.bounce`.
protocol DurableStore: AnyObject {
    func append(_ envelope: EventEnvelope, completion: @escaping @Sendable (Result<AppendReceipt, EventLogError>) -> Void)
    func createGroup(_ name: String, pattern: TopicPattern, startAt: StartPosition, completion: @escaping @Sendable (Result<Void, EventLogError>) -> Void)
    func fetch(group name: String, max: Int, visibilityTimeout: Duration?, completion: @escaping @Sendable (Result<[Delivery], EventLogError>) -> Void)
    func ack(group name: String, id: ULID, completion: @escaping @Sendable (Result<Void, EventLogError>) -> Void)
    func nack(group name: String, id: ULID, reason: String, completion: @escaping @Sendable (Result<Void, EventLogError>) -> Void)
    func deadLetters(group name: String, completion: @escaping @Sendable (Result<[DeadLetter], EventLogError>) -> Void)
    func redrive(group name: String, id: ULID, completion: @escaping @Sendable (Result<Void, EventLogError>) -> Void)
    func events(matching pattern: TopicPattern, since: StartPosition, limit: Int, tenant: String?,
                completion: @escaping @Sendable (Result<[EventEnvelope], EventLogError>) -> Void)
    func runMaintenance(completion: @escaping @Sendable (Result<Int, EventLogError>) -> Void)
    func close(completion: @escaping @Sendable (Result<Void, EventLogError>) -> Void)
}

extension DurableStore {
    /// ``fetch(group:max:visibilityTimeout:completion:)`` with the store's visibility timeout.
    func fetch(group name: String, max: Int, completion: @escaping @Sendable (Result<[Delivery], EventLogError>) -> Void) {
        fetch(group: name, max: max, visibilityTimeout: nil, completion: completion)
    }
}

extension EventLog: DurableStore {}
