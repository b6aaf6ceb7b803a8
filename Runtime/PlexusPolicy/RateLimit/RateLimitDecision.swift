/// The outcome of one `RateLimiter.check`: whether the request may proceed, and what to advertise.
///
/// Headers follow draft-ietf-httpapi-ratelimit-headers in its current form (drafts 08 to 11):
/// `RateLimit-Policy: "<name>";q=<quota>;w=<window>` and `RateLimit: "<name>";r=<remaining>;t=<reset>`,
/// policy names as structured-field strings. The older `RateLimit-Limit` / `-Remaining` / `-Reset`
/// trio (drafts up to 07) is not emitted.
public struct RateLimitDecision: Sendable, Hashable {
    /// Whether a token was taken and the request may proceed.
    public let allowed: Bool
    /// The policy this decision is about.
    public let policy: RateLimitPolicy
    /// Whole tokens left after this request (0 when refused).
    public let remaining: Int
    /// The `t` parameter: seconds until the quota resets. When requests remain, until the bucket is
    /// full again; when none remain, until the next request would be allowed. Rounded up.
    public let resetSeconds: Int
    /// Seconds until the next request would be allowed: 0 when allowed, at least 1 when refused.
    public let retryAfterSeconds: Int

    /// Creates a decision; `RateLimiter` builds these, the initializer is public for tests and adapters.
    public init(allowed: Bool, policy: RateLimitPolicy, remaining: Int, resetSeconds: Int, retryAfterSeconds: Int) {
        self.allowed = allowed
        self.policy = policy
        self.remaining = remaining
        self.resetSeconds = resetSeconds
        self.retryAfterSeconds = retryAfterSeconds
    }

    /// The advertised quota (`requests` of the policy).
    public var limit: Int { policy.requests }

    /// The `RateLimit` field value, e.g. `"api";r=42;t=3`.
    public var rateLimitValue: String {
        // Written byte by byte into one buffer, then one string: this is built for every
        // rate-limited request (concatenating `String(remaining)` cost about 3k instructions).
        var name = policy.quotedName
        return name.withUTF8 { quoted in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: quoted.count + 48) { buffer in
                var count = 0
                func put(_ byte: UInt8) {
                    buffer[count] = byte
                    count += 1
                }
                func putDecimal(_ value: Int) {
                    if value < 0 { put(0x2D) }
                    var rest = value.magnitude
                    var divisor: UInt = 1
                    while divisor <= rest / 10 { divisor *= 10 }
                    repeat {
                        put(UInt8(48 + rest / divisor))
                        rest %= divisor
                        divisor /= 10
                    } while divisor > 0
                }
                for byte in quoted { put(byte) }
                put(0x3B); put(0x72); put(0x3D)  // ;r=
                putDecimal(remaining)
                put(0x3B); put(0x74); put(0x3D)  // ;t=
                putDecimal(resetSeconds)
                return String(decoding: UnsafeBufferPointer(rebasing: buffer[..<count]), as: UTF8.self)
            }
        }
    }

    /// The `RateLimit-Policy` field value, e.g. `"api";q=100;w=60`.
    public var rateLimitPolicyValue: String { policy.policyItem }

    /// The response header fields for this decision: `RateLimit-Policy` (unless `includePolicy` is
    /// false), `RateLimit`, and `Retry-After` when refused. Allocates; call it only when answering.
    public func headerFields(includePolicy: Bool = true) -> [(name: String, value: String)] {
        var fields: [(name: String, value: String)] = []
        if includePolicy { fields.append((name: "RateLimit-Policy", value: rateLimitPolicyValue)) }
        fields.append((name: "RateLimit", value: rateLimitValue))
        if !allowed { fields.append((name: "Retry-After", value: String(retryAfterSeconds))) }
        return fields
    }
}
