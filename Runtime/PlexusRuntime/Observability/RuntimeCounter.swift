import CPlexusShims
import Prometheus

/// One counter series of the runtime: a Prometheus counter whose increments, in a supervised
/// worker, also land in the generation's shared ``CounterRegion`` slot, so the master can carry
/// them over to the next worker generation.
final class RuntimeCounter {
    private let counter: Counter
    private let slot: UnsafeMutablePointer<plexus_counter_slot>?

    init(_ counter: Counter, slot: UnsafeMutablePointer<plexus_counter_slot>?) {
        self.counter = counter
        self.slot = slot
    }

    /// Adds one.
    func increment() { increment(by: Int64(1)) }

    /// Adds `amount` (not negative).
    func increment(by amount: Int64) {
        counter.increment(by: amount)
        if let slot { plexus_counter_add(slot, Double(amount)) }
    }

    /// Adds one, from the loop thread, for a counter only the loop thread ever increments (the
    /// request counters): the shared slot is written without a read-modify-write.
    func incrementOnLoop() {
        counter.increment(by: Int64(1))
        if let slot { plexus_counter_add_single_writer(slot, 1) }
    }

    /// Adds `amount` (not negative).
    func increment(by amount: Double) {
        counter.increment(by: amount)
        if let slot { plexus_counter_add(slot, amount) }
    }

    /// Adds counts of earlier worker generations: shown, but not this generation's own (the
    /// master already holds them).
    func carryOver(_ amount: Double) { counter.increment(by: amount) }
}
