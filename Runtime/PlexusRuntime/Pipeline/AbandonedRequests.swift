import CPlexusABI
import PlexusPolicy

/// Requests the runtime gave up on (a 504, a client that left, a plugin being stopped) whose
/// plugin has an `on_request_abandoned` hook (ABI 1.6): the plugin is told, and each request
/// keeps its plugin's bulkhead slot until the plugin's late answer says the work really ended
/// (or the plugin stops), so a bulkhead bounds work that runs, not only requests still awaited.
///
/// Notices are delivered from the loop, after the event that abandoned the request has been
/// handled: never inside a host call or a route handler, at most once per token, and not at all
/// for a request the plugin answered first. Loop thread only.
final class AbandonedRequests {
    private struct Entry {
        let plugin: PluginInstance
        /// The bulkhead whose slot the request still holds (nil: no gateway).
        let bulkhead: Bulkhead?
    }

    private let loop: EventLoop
    private var holding: [UInt64: Entry] = [:]
    private var pending: [(token: UInt64, reason: plexus_abandon_reason)] = []
    private var deliveryScheduled = false

    init(loop: EventLoop) { self.loop = loop }

    /// Abandoned requests whose plugin has not answered yet.
    var count: Int { holding.count }

    /// Records that request `token` of `plugin` was given up for `reason`, holding `bulkhead`'s
    /// slot, and schedules the notice.
    func add(token: UInt64, plugin: PluginInstance, bulkhead: Bulkhead?, reason: plexus_abandon_reason) {
        holding[token] = Entry(plugin: plugin, bulkhead: bulkhead)
        pending.append((token, reason))
        guard !deliveryScheduled else { return }
        deliveryScheduled = true
        loop.execute { [weak self] in self?.deliver() }
    }

    /// A late answer of `plugin` for `token`: frees the slot; false when it is not an abandoned request of that plugin.
    func settle(token: UInt64, plugin: PluginInstance) -> Bool {
        guard let entry = holding[token], entry.plugin === plugin else { return false }
        holding.removeValue(forKey: token)
        entry.bulkhead?.leave()
        return true
    }

    /// Tells every plugin of its abandoned requests (only those it has not answered since).
    func deliver() {
        deliveryScheduled = false
        let batch = pending
        pending.removeAll(keepingCapacity: true)
        for (token, reason) in batch { tell(token, reason) }
    }

    /// `plugin` is about to stop: its notices still pending are delivered now, before `on_stop`.
    func deliverNow(to plugin: PluginInstance) {
        let (mine, others) = pending.reduce(into: ([(token: UInt64, reason: plexus_abandon_reason)](), [(token: UInt64, reason: plexus_abandon_reason)]())) {
            if holding[$1.token]?.plugin === plugin { $0.0.append($1) } else { $0.1.append($1) }
        }
        pending = others
        for (token, reason) in mine { tell(token, reason) }
    }

    /// `plugin` stopped or failed: the slots its abandoned requests held are freed and its
    /// pending notices dropped (its code is not called again).
    func release(_ plugin: PluginInstance) {
        for (token, entry) in holding where entry.plugin === plugin {
            holding.removeValue(forKey: token)
            entry.bulkhead?.leave()
        }
        pending.removeAll { holding[$0.token] == nil }
    }

    private func tell(_ token: UInt64, _ reason: plexus_abandon_reason) {
        guard let plugin = holding[token]?.plugin, plugin.status.state == .running || plugin.status.state == .stopping,
              let (hook, ctx) = plugin.abandonHook else { return }
        Blame.around(plugin, "on_request_abandoned") { hook(ctx, token, Int32(reason.rawValue)) }
    }
}
