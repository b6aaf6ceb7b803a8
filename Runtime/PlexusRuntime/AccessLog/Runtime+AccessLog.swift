import Foundation

extension Runtime {
    /// Opens the access log (`[access_log]`) before anything serves, counts its drops in
    /// `/metrics`, and takes SIGUSR1 for reopening it; with the log off SIGUSR1 is ignored.
    func startAccessLog() throws {
        guard let accessLog = try AccessLog(settings: config.accessLog, loop: loop, logger: logger, ring: worker?.accessLogRing) else {
            signal(SIGUSR1, SIG_IGN)
            var set = sigset_t()
            sigemptyset(&set)
            sigaddset(&set, SIGUSR1)
            pthread_sigmask(SIG_UNBLOCK, &set, nil)
            return
        }
        accessLog.report(to: metrics)
        server.pipeline.accessLog.accessLog = accessLog
    }
}

extension AccessRecord {
    /// The record of `request`, answered with `bytes` after `microseconds`.
    init(_ request: RequestContext, bytes: Int, microseconds: UInt64) {
        let route = request.route
        self.init(time: AccessRecord.now(), method: request.method, target: request.head.slice(request.urlRange),
                  httpMinor: request.httpMinor, status: request.status, bytes: bytes, durationMicroseconds: microseconds,
                  requestID: request.requestID, peer: request.peer.address, peerIP: request.peer.ip,
                  plugin: route?.plugin.name, route: route?.pattern.text ?? (request.builtin != nil ? request.path : nil),
                  tenant: request.tenant, subject: request.caller?.subject,
                  userAgent: request.header("User-Agent"), referer: request.header("Referer"))
    }
}
