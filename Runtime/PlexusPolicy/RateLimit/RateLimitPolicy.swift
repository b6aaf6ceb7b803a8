/// A named rate limit: `requests` per `perSeconds`, with bursts of up to `burst` requests.
///
/// Enforced as a token bucket per client: capacity `burst`, refilled at `requests / perSeconds`
/// tokens per second. Advertised in `RateLimit-Policy` as quota `requests` over window `perSeconds`.
public struct RateLimitPolicy: Sendable, Hashable {
    /// The policy's name, as it appears in the `RateLimit` and `RateLimit-Policy` headers.
    public let name: String
    /// Requests allowed per window (the advertised quota `q`).
    public let requests: Int
    /// The window in seconds (the advertised `w`).
    public let perSeconds: Int
    /// The bucket capacity: how many requests may arrive at one instant.
    public let burst: Int
    /// The policy as one `RateLimit-Policy` list member, e.g. `"api";q=100;w=60`.
    public let policyItem: String
    /// The name as a structured-field string (quoted and escaped), e.g. `"api"`.
    let quotedName: String

    /// Creates a policy; `burst` defaults to `requests`.
    ///
    /// - Throws: `.invalidConfiguration` unless `requests`, `perSeconds` and `burst` are positive and
    ///   `name` is non-empty printable ASCII (it is sent in headers as a structured-field string).
    public init(name: String, requests: Int, perSeconds: Int, burst: Int? = nil) throws(PolicyError) {
        guard !name.isEmpty, name.utf8.allSatisfy({ $0 >= 0x20 && $0 <= 0x7e }) else {
            throw PolicyError(.invalidConfiguration, "rate limit policy name \"\(name)\" must be non-empty printable ASCII")
        }
        guard requests > 0, perSeconds > 0 else {
            throw PolicyError(
                .invalidConfiguration,
                "rate limit policy \"\(name)\": requests (\(requests)) and perSeconds (\(perSeconds)) must be positive")
        }
        let burst = burst ?? requests
        guard burst > 0 else {
            throw PolicyError(.invalidConfiguration, "rate limit policy \"\(name)\": burst (\(burst)) must be positive")
        }
        self.name = name
        self.requests = requests
        self.perSeconds = perSeconds
        self.burst = burst
        var quoted = "\""
        for character in name {
            if character == "\"" || character == "\\" { quoted.append("\\") }
            quoted.append(character)
        }
        quoted.append("\"")
        self.quotedName = quoted
        self.policyItem = "\(quoted);q=\(requests);w=\(perSeconds)"
    }

    /// Tokens added per second: `requests / perSeconds`.
    public var refillPerSecond: Double { Double(requests) / Double(perSeconds) }

    /// A full bucket for this policy as of `now`.
    public func makeBucket(now: Double) -> TokenBucket {
        TokenBucket(capacity: Double(burst), refillPerSecond: refillPerSecond, now: now)
    }
}
