import PlexusSDK
import WorkflowEngine

/// `POST …/instances/:id/signal/:signal`: at-least-once by default; exactly once per
/// `Idempotency-Key` (the sender's key, stored with the signal's entry).
extension WorkflowsPlugin {
    /// The bytes an `Idempotency-Key` of a signal may hold.
    static let signalKeyBytes = 1...128

    /// Sends the signal. With an `Idempotency-Key`, a repeat of a signal already stored or
    /// queued with that key is answered as the first was (202, or 503 again while the first is
    /// still not stored) and not recorded again; the same key with another signal is 422.
    func postSignal(_ request: Request) async throws -> Response {
        let name = request.parameters["signal"] ?? ""
        guard (1...64).contains(name.utf8.count) else { throw HTTPError.badRequest("path segment 'signal': 1 to 64 bytes") }
        let key = try Self.signalKey(request.headers["Idempotency-Key"])
        let payload: JSON
        if request.body.isEmpty { payload = .null } else {
            guard let parsed = JSON.parse(request.body) else { throw HTTPError.badRequest("the signal's body is not JSON") }
            payload = parsed
        }
        let instance: LiveInstance
        do {
            instance = try await runningInstance(request)
        } catch {
            // A repeat of a signal stored before the instance ended here is answered as the first was.
            guard let key, let stored = try? await loadInstance(request),
                  let earlier = stored.1.first(where: { $0.kind == .signalReceived && $0.key == key }) else { throw error }
            try Self.check(earlier, isTheSameAs: name, payload, key: key)
            return Self.json(.object(["id": .string(stored.0.id), "signal": .string(name)]), status: 202)
        }
        if let key, let earlier = instance.signal(withKey: key) {
            try Self.check(earlier.entry, isTheSameAs: name, payload, key: key)
        } else {
            runner.signal(instance, name: name, payload: payload, key: key)
        }
        if let timedOut = try await durable(instance) { return timedOut.response(requestID: request.requestID) }
        return Self.json(.object(["id": .string(instance.id), "signal": .string(name)]), status: 202)
    }

    /// The `Idempotency-Key` header of a signal: nil without one; 400 naming it when it is not
    /// 1 to 128 bytes of `A-Z a-z 0-9 - _ . :`.
    static func signalKey(_ header: String?) throws -> String? {
        guard let header else { return nil }
        let allowed = header.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: ":")
        }
        guard signalKeyBytes.contains(header.utf8.count), allowed else {
            throw HTTPError.badRequest("header 'Idempotency-Key': 1 to 128 bytes of A-Z a-z 0-9 - _ . : (got \(header.utf8.count) bytes)")
        }
        return header
    }

    /// 422 when the entry stored under `key` is another signal (name or payload).
    static func check(_ earlier: HistoryEvent, isTheSameAs name: String, _ payload: JSON, key: String) throws {
        guard earlier.name == name, (earlier.data ?? .null) == payload else {
            throw HTTPError.unprocessable("header 'Idempotency-Key': '\(key)' was already used for another signal to this instance "
                                          + "('\(earlier.name ?? "")' with its own body); a new signal needs a new key")
        }
    }
}
