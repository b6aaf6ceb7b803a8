/// Services offered by plugins on other instances of a cluster (cluster mode on Redis). Without
/// a cluster the registry has none and every call stays in this process.
protocol RemoteServices: AnyObject {
    /// A plugin here now offers `name` (announced to the other instances while it does).
    func offered(_ name: String)
    /// No plugin here offers `name` any more.
    func withdrawn(_ name: String)
    /// Takes the call to `name` when its turn (calls are balanced over every instance offering
    /// it, this one included when `local` is true) falls on another instance; returns false to
    /// leave it to this instance. `reply` runs once, on the loop, with the answer or the failure.
    func take(_ name: String, local: Bool, payload: [UInt8], timeoutMilliseconds: UInt64,
              reply: @escaping (Result<[UInt8], RemoteServiceFailure>) -> Void) -> Bool
}

/// Why a call to another instance's service failed.
struct RemoteServiceFailure: Error {
    enum Kind { case notFound, timeout, failed }
    let kind: Kind
    let message: String
}
