import Glibc

/// One answered request, as the access log records it.
///
/// Byte fields point into the request's own buffers and are only valid while the record is
/// being formatted (``AccessLogFormatter/append(_:to:)`` copies what it needs); nothing here is
/// decoded, so a hostile target or `User-Agent` reaches the formatter as the bytes that were sent.
struct AccessRecord {
    /// Wall-clock time the answer was logged.
    var time: timespec
    var method: String
    /// The request target as sent (origin or absolute form); the formatter keeps the path and
    /// redacts credential parameters of the query (``AccessLogTarget``).
    var target: UnsafeRawBufferPointer
    var httpMinor: UInt16
    var status: Int
    /// Bytes of the response written (head and body).
    var bytes: Int
    var durationMicroseconds: UInt64
    var requestID: String
    /// `host:port` of the client.
    var peer: String
    /// The client's address without the port (the combined format's `$remote_addr`).
    var peerIP: String
    var plugin: String?
    /// The pattern of the route that answered (`/api/v1/items/:id`).
    var route: String?
    var tenant: String?
    /// The verified caller's subject (the combined format's `$remote_user`).
    var subject: String?
    var userAgent: UnsafeRawBufferPointer?
    var referer: UnsafeRawBufferPointer?
    /// `target` is known to be an origin-form path with no query that the target parser admitted
    /// (``RequestContext/targetIsPlainPath``): logged as it is, without a scan.
    var targetIsPlainPath = false

    /// The current wall-clock time.
    static func now() -> timespec {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return time
    }
}
