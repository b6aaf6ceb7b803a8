/// Keeps the ABI's promise that no callback fires inside the host call that registered it.
///
/// A host call creates a gate, hands ``deliver(_:)`` to whatever may complete at once (a
/// non-durable publish, storage that has already failed, a service answered synchronously) and
/// calls ``open()`` just before it returns. A callback delivered while the gate is still closed
/// is moved onto the loop, to run after the host call has returned; once open, callbacks run
/// at once. Loop thread only.
final class CallbackGate {
    private let loop: EventLoop
    private var isOpen = false

    init(loop: EventLoop) { self.loop = loop }

    /// Runs `callback` now if the host call has returned, or from the loop soon after otherwise.
    func deliver(_ callback: @escaping () -> Void) {
        if isOpen { callback() } else { loop.execute(callback) }
    }

    /// The host call is returning: later callbacks run at once.
    func open() { isOpen = true }
}
