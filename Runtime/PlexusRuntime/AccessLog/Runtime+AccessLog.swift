import Foundation

extension Runtime {
    /// Opens the access log (`[access_log]`) before anything serves, counts its drops in
    /// `/metrics`, and takes SIGUSR1 for reopening it; with the log off SIGUSR1 is ignored.
    func startAccessLog() throws {
        guard let accessLog = try AccessLog(settings: config.accessLog, loop: loop, logger: logger) else {
            signal(SIGUSR1, SIG_IGN)
            var set = sigset_t()
            sigemptyset(&set)
            sigaddset(&set, SIGUSR1)
            pthread_sigmask(SIG_UNBLOCK, &set, nil)
            return
        }
        accessLog.report(to: metrics)
        server.accessLog = accessLog
    }
}

extension AccessRecord {
    /// The record of `exchange`, answered with `bytes` after `microseconds`.
    init(_ exchange: HTTPExchange, bytes: Int, microseconds: UInt64) {
        let route = exchange.route
        self.init(time: AccessRecord.now(), method: exchange.method, target: exchange.head.slice(exchange.urlRange),
                  httpMinor: exchange.httpMinor, status: exchange.status, bytes: bytes, durationMicroseconds: microseconds,
                  requestID: exchange.requestID, peer: exchange.connection.peerAddress, peerIP: exchange.connection.peerIP,
                  plugin: route?.plugin.name, route: route?.pattern.text ?? (exchange.builtin != nil ? exchange.path : nil),
                  tenant: exchange.tenant, subject: exchange.caller?.subject,
                  userAgent: exchange.header("User-Agent"), referer: exchange.header("Referer"))
    }
}
