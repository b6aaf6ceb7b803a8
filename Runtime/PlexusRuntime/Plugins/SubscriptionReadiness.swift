import CPlexusABI
import PlexusStorage

/// A plugin's ABI 1.10 `ready` callback of one subscription (`plexus_subscription_options.ready`):
/// called once the router says the subscription is complete, on the loop, after `subscribe` has
/// returned (the caller delivers it through the call's ``CallbackGate``), and only while the
/// subscription still exists, so a plugin that unsubscribed or stopped never hears of it.
final class SubscriptionReadiness {
    private let callback: plexus_subscription_ready_cb
    private let user: UnsafeMutableRawPointer?
    /// The subscription's id, set once `subscribe` has it (before the gate opens).
    var subscription: UInt64 = 0
    private var called = false

    /// The readiness the options ask for, or nil: no callback, or options of a plugin built
    /// before ABI 1.10 (a `struct_size` that does not cover the fields).
    init?(options: UnsafePointer<plexus_subscription_options>?) {
        guard let options, Int(options.pointee.struct_size) >= MemoryLayout<plexus_subscription_options>.size,
              let callback = options.pointee.ready else { return nil }
        self.callback = callback
        user = options.pointee.ready_user
    }

    /// Tells the plugin, once, if the subscription is still live: `last_status` is PLEXUS_OK, or
    /// the storage code of `failure` when a change log could not be started.
    func call(owner: String, events: EventRouter, failure: StorageError?) {
        guard !called, subscription != 0, events.isSubscribed(subscription) else { return }
        called = true
        Blame.mark(name: owner, what: "subscription \(subscription) ready callback")
        defer { Blame.clear() }
        HostCallStatus.set(failure.map { HostCallStatus.code(for: $0.kind) } ?? PLEXUS_OK)
        callback(user, subscription)
    }
}
