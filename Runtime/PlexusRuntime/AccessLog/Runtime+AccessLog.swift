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
    /// The record of `request`, answered with `bytes` after `microseconds`, logged at `time`, with
    /// the fields `format` writes (the others are left empty: copying a string retains it).
    init(_ request: RequestContext, bytes: Int, microseconds: UInt64, time: timespec, format: AccessLogSettings.Format) {
        let combined = format == .combined
        let route = combined ? nil : request.route
        self.init(time: time, method: request.method, target: request.head.slice(request.urlRange),
                  httpMinor: request.httpMinor, status: request.status, bytes: bytes, durationMicroseconds: microseconds,
                  requestID: combined ? "" : request.requestID, peer: combined ? "" : request.peer.address,
                  peerIP: combined ? request.peer.ip : "",
                  plugin: route?.plugin.name, route: combined ? nil : route?.pattern.text ?? (request.builtin != nil ? request.path : nil),
                  tenant: combined ? nil : request.tenant, subject: request.caller?.subject,
                  userAgent: request.header(.userAgent), referer: combined ? request.header(.referer) : nil,
                  targetIsPlainPath: request.targetIsPlainPath)
    }
}
