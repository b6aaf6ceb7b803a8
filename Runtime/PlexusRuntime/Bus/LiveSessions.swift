import Foundation
import PlexusAuth

/// A long-lived client session of the bus (an SSE stream or a WebSocket) that can be ended
/// when the credentials it was opened with stop being valid.
protocol LiveSession: AnyObject {
    /// Ends the session because its credentials were revoked or expired; `reason` says which.
    func endForCredentials(_ reason: String)
}

/// The open SSE and WebSocket sessions with the credential each was opened with, re-checked
/// every second: a session whose JWT (or stream ticket's credential) has expired, or whose API
/// key the key directory now reports revoked or deleted, is ended. A request is checked once;
/// a stream lives on, so it must be checked for as long as it lives. Loop thread only.
final class LiveSessions {
    /// What a session's credential is and how long it holds.
    struct Credential {
        /// The API key's id, for a session opened with an API key.
        let apiKeyID: String?
        /// When the credential expires (unix seconds), for a JWT.
        let expiresAt: Double?

        /// The credential of `caller` (nil: no credential, e.g. a runtime without a gateway).
        init?(_ caller: Caller?) {
            guard let caller else { return nil }
            apiKeyID = caller.method == .apiKey ? caller.clientKey : nil
            expiresAt = caller.expiresAt
        }
    }

    private struct Entry {
        weak var session: LiveSession?
        let credential: Credential
        /// The key directory's generation this session's key was last checked against (nil:
        /// not yet; a session may have been authenticated against an older snapshot).
        var checkedGeneration: Int64?
    }

    /// The key directory (nil: API keys are not checked); asked at each check, since the
    /// gateway may start after the endpoints are installed.
    private let keys: () -> APIKeyDirectory?
    private var entries: [ObjectIdentifier: Entry] = [:]
    private var timer: LoopTimer?

    /// Checks sessions against the directory `keys` gives (nil: API keys are not checked) once
    /// a second on `loop`.
    init(loop: EventLoop, keys: @escaping () -> APIKeyDirectory?, intervalMilliseconds: UInt64 = 1_000) {
        self.keys = keys
        let timer = LoopTimer(loop: loop)
        timer.start(afterMilliseconds: intervalMilliseconds, repeatingMilliseconds: intervalMilliseconds) { [unowned self] in
            check(now: Date().timeIntervalSince1970)
        }
        timer.unref()
        self.timer = timer
    }

    /// The number of sessions watched.
    var count: Int { entries.count }

    /// Watches `session` opened by `caller` until it is removed or ended.
    func add(_ session: LiveSession, caller: Caller?) {
        guard let credential = Credential(caller), credential.apiKeyID != nil || credential.expiresAt != nil else { return }
        entries[ObjectIdentifier(session)] = Entry(session: session, credential: credential, checkedGeneration: nil)
    }

    /// Stops watching `session` (it ended on its own).
    func remove(_ session: LiveSession) {
        entries.removeValue(forKey: ObjectIdentifier(session))
    }

    /// Ends every session whose credential expired by `now`, and every session whose API key
    /// is no longer active in a key-directory snapshot it was not yet checked against.
    func check(now: Double) {
        let keys = keys()
        let generation = keys?.generation
        var ending: [(LiveSession, String)] = []
        for (id, entry) in entries {
            guard let session = entry.session else {
                entries.removeValue(forKey: id)
                continue
            }
            if let expiresAt = entry.credential.expiresAt, expiresAt <= now {
                ending.append((session, "the credentials expired at \(ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: expiresAt)))"))
            } else if let keyID = entry.credential.apiKeyID, let keys, entry.checkedGeneration != generation {
                if keys.isActive(id: keyID) {
                    entries[id]?.checkedGeneration = generation
                } else {
                    ending.append((session, "API key \(keyID) was revoked"))
                }
            }
        }
        for (session, reason) in ending {
            entries.removeValue(forKey: ObjectIdentifier(session))
            session.endForCredentials(reason)
        }
    }

    /// Stops the timer (at shutdown).
    func close() {
        timer?.close()
        timer = nil
    }
}
