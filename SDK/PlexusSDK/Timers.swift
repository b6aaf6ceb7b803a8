/// Schedules closures on the loop thread.
@PluginActor
public final class Timers {
    let driver: any TimerDriver
    private var live: [UInt64: TimerBox] = [:]

    init(driver: any TimerDriver) { self.driver = driver }

    /// Runs `action` once after `delay`, then every `repeating` if given.
    /// - Returns: a handle whose ``TimerHandle/cancel()`` stops the timer.
    @discardableResult
    public func schedule(after delay: Duration, repeating: Duration? = nil, _ action: @escaping @PluginActor () -> Void) -> TimerHandle {
        schedule(delay.hostMilliseconds, repeating.map { max($0.hostMilliseconds, 1) } ?? 0, fireOnCancel: false, action)
    }

    /// Runs `action` once after `milliseconds`, or every `repeating` milliseconds if given.
    @available(*, deprecated, message: "use schedule(after:repeating:) with a Duration, e.g. .milliseconds(250)")
    @discardableResult
    public func schedule(afterMilliseconds milliseconds: UInt64, repeatingMilliseconds repeating: UInt64 = 0,
                         _ action: @escaping @PluginActor () -> Void) -> TimerHandle {
        schedule(milliseconds, repeating, fireOnCancel: false, action)
    }

    /// A one-shot timer whose action also runs if the timer is cancelled (so a waiting task resumes).
    func schedule(_ milliseconds: UInt64, _ repeating: UInt64, fireOnCancel: Bool, _ action: @escaping @PluginActor () -> Void) -> TimerHandle {
        let box = TimerBox(action: action, repeats: repeating > 0)
        box.fireOnCancel = fireOnCancel
        // The driver holds the box only through this closure; the table below keeps it alive.
        let id = driver.start(afterMilliseconds: milliseconds, repeatingMilliseconds: repeating) { [weak box] in box?.fire() }
        guard id != 0 else { return TimerHandle(id: 0, timers: self) }
        box.id = id
        box.owner = self
        live[id] = box
        return TimerHandle(id: id, timers: self)
    }

    /// Stops every timer this plugin started (the SDK calls it when the plugin stops).
    public func cancelAll() {
        for id in Array(live.keys) { cancel(id) }
    }

    func cancel(_ id: UInt64) {
        guard let box = live.removeValue(forKey: id) else { return }
        driver.stop(id)
        if box.fireOnCancel { box.action() }
    }

    fileprivate func finished(_ id: UInt64) { live.removeValue(forKey: id) }
}

/// A scheduled timer.
@PluginActor
public struct TimerHandle {
    let id: UInt64
    weak var timers: Timers?

    /// Stops the timer; a timer that already fired or was cancelled is left alone.
    public func cancel() { timers?.cancel(id) }
}

/// Keeps a timer's closure alive while the host may still call it.
@PluginActor
final class TimerBox {
    let action: @PluginActor () -> Void
    let repeats: Bool
    var id: UInt64 = 0
    var fireOnCancel = false
    weak var owner: Timers?

    init(action: @escaping @PluginActor () -> Void, repeats: Bool) {
        self.action = action
        self.repeats = repeats
    }

    func fire() {
        // A one-shot timer is done after this call: drop it from the table (its last strong reference)
        // only after the action ran.
        action()
        if !repeats { owner?.finished(id) }
    }
}
