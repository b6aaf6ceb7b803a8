/// What owns a connection's socket after a protocol upgrade (``HTTPConnection/takeOver(by:head:)``).
/// Loop thread only.
protocol ConnectionTakeover: AnyObject {
    /// Bytes read from the peer; valid only during the call.
    func connectionRead(_ bytes: UnsafeRawBufferPointer)
    /// The server is shutting down: end the session politely (then close the connection).
    func connectionShutdown()
    /// The connection is closed (by either side, or cut off); called once.
    func connectionClosed()
}
