/// The body of a streaming response, written as HTTP/1.1 chunks (Server-Sent Events use it).
///
/// A peer that stops reading is cut off once `bufferLimit` bytes wait unsent, so a stalled
/// client is never buffered without bound. Loop thread only.
final class HTTPStream {
    private unowned(unsafe) var connection: HTTPConnection?
    let exchange: HTTPExchange
    /// Bytes allowed to wait in the socket's write queue before the peer is disconnected.
    var bufferLimit = 1 << 20
    /// Called once when the stream ends, whoever ended it.
    var onClose: (() -> Void)?
    private(set) var isOpen = true

    init(connection: HTTPConnection, exchange: HTTPExchange) {
        self.connection = connection
        self.exchange = exchange
    }

    /// Sends `bytes` as one chunk; false once the stream is closed (or was just cut off).
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        guard isOpen, let connection, !bytes.isEmpty else { return isOpen }
        var chunk = Array(String(bytes.count, radix: 16).utf8)
        chunk.append(contentsOf: [13, 10])
        chunk.append(contentsOf: bytes)
        chunk.append(contentsOf: [13, 10])
        return connection.writeStream(chunk, limit: bufferLimit)
    }

    /// Ends the stream cleanly and closes the connection.
    func finish() {
        guard isOpen else { return }
        let connection = self.connection
        connectionClosed()
        connection?.endStream()
    }

    /// The connection is gone.
    func connectionClosed() {
        guard isOpen else { return }
        isOpen = false
        connection = nil
        let callback = onClose
        onClose = nil
        callback?()
    }
}
