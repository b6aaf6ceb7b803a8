import Foundation
import PlexusAuth
import PlexusPolicy

/// Writes audited actions (auth failures, admin actions, circuit changes) to the audit log.
/// Refusals (401/403) are recorded one by one up to ``refusalsPerSecond`` a second; beyond that
/// they are counted and summarised, so a flood of bad credentials costs neither the loop nor
/// the disk much. Loop thread only.
final class AuditTrail {
    static let refusalsPerSecond = 200
    let log: AuditLog
    private var windowStart = 0.0
    private var refusalsInWindow = 0
    private var suppressed = 0
    /// Also gets every record written (cluster mode: the installation's shared audit stream).
    var mirror: ((AuditRecord) -> Void)?

    init(log: AuditLog) {
        self.log = log
    }

    /// Records `action` taken by or refused to the caller of `request` (nil: the runtime itself).
    func record(_ action: AuditAction, outcome: AuditOutcome, request: RequestContext?, target: String? = nil, detail: String) {
        if action == .authFailure || action == .authDenied {
            let now = Date().timeIntervalSince1970
            if now - windowStart >= 1 {
                flushSuppressed(now: now)
                windowStart = now
                refusalsInWindow = 0
            }
            refusalsInWindow += 1
            if refusalsInWindow > Self.refusalsPerSecond {
                suppressed += 1
                return
            }
        }
        let actor = request?.caller?.subject ?? request.map { "ip:" + $0.peer.ip } ?? "plexus"
        let kind: AuditActorKind = request.map { $0.caller == nil ? .anonymous : $0.caller!.method == .apiKey ? .apiKey : .subject } ?? .system
        let record = AuditRecord(time: Date().timeIntervalSince1970, actor: actor, actorKind: kind, action: action, target: target,
                                 outcome: outcome, requestID: request?.requestID, tenant: request?.tenant, detail: detail)
        log.append(record)
        mirror?(record)
    }

    /// Writes a record made elsewhere (a plugin's, through `audit_record`), mirrored like the rest.
    func append(_ record: AuditRecord) {
        log.append(record)
        mirror?(record)
    }

    /// 401 for `request`, audited as an authentication failure.
    func unauthenticated(_ request: RequestContext, _ detail: String, error: String?) -> GatewayRefusal {
        record(.authFailure, outcome: .failure, request: request, target: "\(request.method) \(request.path)", detail: detail)
        return .unauthenticated(detail, error: error)
    }

    /// 403 for `request`, audited as a denial.
    func denied(_ request: RequestContext, _ detail: String, scope: String? = nil) -> GatewayRefusal {
        record(.authDenied, outcome: .denied, request: request, target: "\(request.method) \(request.path)", detail: detail)
        return .forbidden(detail, scope: scope)
    }

    /// Writes the summary of the refusals left out in the last window, once it is over.
    func sweep(now: Double) {
        if now - windowStart >= 1 { flushSuppressed(now: now) }
    }

    private func flushSuppressed(now: Double) {
        guard suppressed > 0 else { return }
        let record = AuditRecord(time: now, actor: "plexus", actorKind: .system, action: .authFailure, outcome: .failure,
                                 detail: "\(suppressed) more authentication failures and refusals in one second were counted, not recorded one by one")
        log.append(record)
        mirror?(record)
        suppressed = 0
    }
}
