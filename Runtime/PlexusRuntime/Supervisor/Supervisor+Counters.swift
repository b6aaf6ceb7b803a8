import Foundation
import Logging

extension Supervisor {
    /// A new generation's counter region (a sealed memfd), or nil when the system refuses one:
    /// then that generation's counts are not carried past it, and the log says so.
    func sharedCounters(generation: Int) -> CounterRegion? {
        do {
            return try CounterRegion.shared()
        } catch {
            logger.error("counters of worker generation \(generation) are lost when it ends: \(error)")
            return nil
        }
    }
}
