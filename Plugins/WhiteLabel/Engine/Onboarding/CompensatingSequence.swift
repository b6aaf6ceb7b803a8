/// Steps that run in order, each with an undo: when a step fails, its own undo runs first (on
/// the context as far as the step got, so an undo must accept a partial step), then the undos of
/// the steps already done, in reverse order, so nothing is left half made. An undo that fails too is reported
/// with the original failure (never hidden).
public struct CompensatingSequence<Context: Sendable>: Sendable {
    public struct Step: Sendable {
        public let name: String
        public let run: @Sendable (inout Context) async throws -> Void
        public let undo: @Sendable (Context) async throws -> Void
        public init(_ name: String, run: @escaping @Sendable (inout Context) async throws -> Void, undo: @escaping @Sendable (Context) async throws -> Void) {
            (self.name, self.run, self.undo) = (name, run, undo)
        }
    }

    /// Why the sequence stopped: the failing step, its error, the steps undone, undo failures.
    public struct Failure: Error, CustomStringConvertible {
        public let step: String
        public let error: Error
        public let undone: [String]
        public let undoFailures: [String]
        public var description: String {
            "step '\(step)' failed: \(error); undone: \(undone.isEmpty ? "nothing" : undone.joined(separator: ", "))"
                + (undoFailures.isEmpty ? "" : "; undo failures: \(undoFailures.joined(separator: "; "))")
        }
    }

    public let steps: [Step]
    public init(_ steps: [Step]) { self.steps = steps }

    /// Runs every step; returns the final context or throws ``Failure`` after undoing.
    public func run(_ start: Context) async throws -> Context {
        var context = start
        var done: [Step] = []
        for step in steps {
            do {
                try await step.run(&context)
                done.append(step)
            } catch {
                var undone: [String] = [], failures: [String] = []
                for previous in [step] + done.reversed() {
                    do {
                        try await previous.undo(context)
                        undone.append(previous.name)
                    } catch let undoError {
                        failures.append("\(previous.name): \(undoError)")
                    }
                }
                throw Failure(step: step.name, error: error, undone: undone, undoFailures: failures)
            }
        }
        return context
    }
}
