import PlexusSDK

/// Bounds the decodes in flight: at most `running` at once, at most `queued` waiting; beyond that
/// ``enter()`` answers false and the route answers 503 with `Retry-After`. Lives on the plugin's actor.
@PluginActor
final class DecodeGate {
    private let running: Int
    private let queued: Int
    private var active = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(running: Int, queued: Int) {
        self.running = max(1, running)
        self.queued = max(0, queued)
    }

    /// Decodes running now and waiting.
    var load: (active: Int, waiting: Int) { (active, waiting.count) }

    /// Waits for a decode slot; false (at once) when the queue is full.
    func enter() async -> Bool {
        if active < running { active += 1; return true }
        guard waiting.count < queued else { return false }
        await withCheckedContinuation { waiting.append($0) }
        return true
    }

    /// Frees a slot, handing it to the longest waiting request.
    func leave() {
        if waiting.isEmpty { active -= 1 } else { waiting.removeFirst().resume() }
    }
}
