/// A value moved between threads by hand; safe only because the receiver is the loop thread
/// and the sender gives the value up.
struct Unchecked<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

extension EventLoop {
    /// Wraps a loop-confined callback so that any thread may call it: each call is queued onto
    /// the loop and runs there. Use it for completions of work done on other threads.
    func bounce<T>(_ body: @escaping (T) -> Void) -> @Sendable (T) -> Void {
        let callback = Unchecked(body)
        return { [self] value in
            let argument = Unchecked(value)
            execute { callback.value(argument.value) }
        }
    }
}

extension EventLoop {
    /// Runs async `work` off the loop, then `then` with its result on the loop.
    func async<T: Sendable>(_ work: @escaping @Sendable () async throws -> T, then: @escaping (Result<T, Error>) -> Void) {
        let finish = bounce(then)
        Task {
            do { finish(.success(try await work())) } catch { finish(.failure(error)) }
        }
    }
}
