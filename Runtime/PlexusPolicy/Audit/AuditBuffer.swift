import Foundation

/// The records between `AuditLog.append` (the event loop) and the writer (the storage engine's
/// worker), and the flush waiters, under one lock held only for queue operations.
///
/// Droppable and kept records wait in two queues so that discarding the oldest droppable record is
/// O(1) however many kept records there are; the writer merges them back into id order.
final class AuditBuffer: @unchecked Sendable {
    typealias Completion = @Sendable (Result<Void, PolicyError>) -> Void

    private let lock = NSLock()
    private let configuration: AuditLogConfiguration
    private var lastID: Int64
    private var droppable = RecordQueue()
    private var kept = RecordQueue()
    /// The batch the writer took and has not finished.
    private var inFlight: [AuditRecord] = []
    private var writing = false
    private var accepting = true
    private var waiters: [(target: Int64, completion: Completion)] = []
    private var counters = AuditLogStatistics()

    init(configuration: AuditLogConfiguration, lastID: Int64) {
        self.configuration = configuration
        self.lastID = lastID
    }

    private func locked<T>(_ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    /// Stamps the record with the next id and queues it. Returns the id (0 if the log is closed)
    /// and whether the caller must start the writer.
    func append(_ record: AuditRecord) -> (id: Int64, startWriter: Bool) {
        var record = record
        // The UTF-8 length bounds the character count and is O(1): only long details are measured.
        if record.detail.utf8.count > configuration.maxDetailLength, record.detail.count > configuration.maxDetailLength {
            record.detail = String(record.detail.prefix(configuration.maxDetailLength))
        }
        return locked {
            guard accepting else {
                counters.droppedAfterClose += 1
                return (0, false)
            }
            lastID += 1
            record.id = lastID
            counters.appended += 1
            if configuration.droppableActions.contains(record.action) {
                droppable.append(record)
            } else {
                kept.append(record)
            }
            trimToCapacity()
            return (lastID, claimWriter())
        }
    }

    /// Discards the oldest droppable records while over capacity (kept records are never discarded).
    private func trimToCapacity() {
        while droppable.count + kept.count > configuration.bufferCapacity, droppable.popFirst() != nil {
            counters.dropped += 1
        }
    }

    /// Marks the writer as running if it was not; returns whether the caller must start it.
    private func claimWriter() -> Bool {
        guard !writing else { return false }
        writing = true
        return true
    }

    /// On the worker: takes up to `limit` records, oldest first, as the batch in flight.
    func takeBatch(limit: Int) -> [AuditRecord] {
        locked {
            var batch: [AuditRecord] = []
            batch.reserveCapacity(min(limit, droppable.count + kept.count))
            while batch.count < limit {
                let next: AuditRecord?
                switch (droppable.first, kept.first) {
                case let (d?, k?): next = d.id < k.id ? droppable.popFirst() : kept.popFirst()
                case (_?, nil): next = droppable.popFirst()
                case (nil, _?): next = kept.popFirst()
                case (nil, nil): next = nil
                }
                guard let next else { break }
                batch.append(next)
            }
            inFlight = batch
            return batch
        }
    }

    /// After the writer's transaction: updates counters, and returns the flush waiters to resume
    /// and whether to write another batch now.
    ///
    /// On failure the batch is put back in front (then trimmed to capacity) and the writer stops
    /// until the next append or flush, so a failing disk is retried, not spun on; every waiting
    /// flush fails. If the engine is closed, everything pending is discarded.
    func finishBatch(_ result: Result<Void, PolicyError>) -> (again: Bool, resume: [(Completion, Result<Void, PolicyError>)]) {
        locked {
            var resume: [(Completion, Result<Void, PolicyError>)] = []
            switch result {
            case .success:
                counters.written += inFlight.count
                if !inFlight.isEmpty { counters.batches += 1 }
                inFlight = []
                let oldestPending = [droppable.first?.id, kept.first?.id].compactMap { $0 }.min()
                let settledThrough = oldestPending.map { $0 - 1 } ?? lastID
                waiters.removeAll { waiter in
                    guard waiter.target <= settledThrough else { return false }
                    resume.append((waiter.completion, .success(())))
                    return true
                }
                let again = oldestPending != nil
                writing = again
                return (again, resume)
            case .failure(let error):
                counters.failedBatches += 1
                counters.lastError = error
                if error.kind == .closed {
                    accepting = false
                    counters.droppedAfterClose += inFlight.count + droppable.count + kept.count
                    droppable = RecordQueue()
                    kept = RecordQueue()
                } else {
                    droppable.prepend(inFlight.filter { configuration.droppableActions.contains($0.action) })
                    kept.prepend(inFlight.filter { !configuration.droppableActions.contains($0.action) })
                    trimToCapacity()
                }
                inFlight = []
                writing = false
                resume = waiters.map { ($0.completion, .failure(error)) }
                waiters = []
                return (false, resume)
            }
        }
    }

    /// Registers a flush of everything appended so far. Returns the result at once if nothing is
    /// pending; otherwise nil, and whether the caller must start the writer.
    func addWaiter(_ completion: @escaping Completion) -> (immediate: Result<Void, PolicyError>?, startWriter: Bool) {
        locked {
            if droppable.isEmpty && kept.isEmpty && inFlight.isEmpty { return (.success(()), false) }
            waiters.append((lastID, completion))
            return (nil, claimWriter())
        }
    }

    /// Refuses further appends (they are counted in `droppedAfterClose`).
    func stopAccepting() {
        locked { accepting = false }
    }

    /// The counters, with `pending` filled in.
    var statistics: AuditLogStatistics {
        locked {
            var snapshot = counters
            snapshot.pending = droppable.count + kept.count + inFlight.count
            return snapshot
        }
    }
}
