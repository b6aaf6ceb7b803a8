import PlexusEventLog

/// What the router tells the other instances of a cluster (cluster mode on Redis): every event
/// it publishes, and which topic patterns its subscribers listen to, so that events published
/// elsewhere reach them. Without a cluster the router has none and nothing changes.
protocol BusReplication: AnyObject {
    /// Why events cannot reach the other instances now (nil: they can). A publish is refused
    /// with this rather than reaching only this instance.
    var unavailableReason: String? { get }
    /// Sends an event published here (after it was stored, when durable) to the other instances.
    func replicate(_ event: EventEnvelope, durable: Bool)
    /// A subscriber here now listens to `pattern` (counted: one call per subscription).
    func listen(_ pattern: TopicPattern)
    /// A subscription to `pattern` ended.
    func stopListening(_ pattern: TopicPattern)
}
