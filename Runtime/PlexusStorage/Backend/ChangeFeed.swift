/// A source of committed changes that is not the worker's connection (PostgreSQL's LISTEN/NOTIFY).
protocol ChangeFeed: AnyObject, Sendable {
    /// Sets (or clears) the receiver of change batches.
    func setHandler(_ handler: (@Sendable ([StorageChange]) -> Void)?)
    /// Stops listening and closes the feed's connection.
    func stop()
}
