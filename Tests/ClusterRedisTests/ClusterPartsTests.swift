import Foundation
import PlexusEventLog
@testable import PlexusRuntime
import XCTest

/// The cluster's pure parts: settings, channel globs, the envelope codec, ids, key merging.
final class ClusterPartsTests: XCTestCase {
    func testSettingsParseTheURLAndTheirKeys() throws {
        let settings = try XCTUnwrap(ClusterRedisSettings.parse([
            "cluster.redis": "redis://:s%40cret@10.0.0.7:6380/3", "cluster.redis_prefix": "shop:",
            "cluster.redis_connect_timeout_ms": "500", "cluster.redis_claim_idle_ms": "1500", "cluster.redis_stream_max_events": "0",
            "cluster.redis_wait_replicas": "2", "cluster.redis_wait_timeout_ms": "250",
        ], file: "t.toml"))
        XCTAssertEqual(settings.waitReplicas, 2)
        XCTAssertEqual(settings.waitTimeoutMilliseconds, 250)
        XCTAssertEqual(settings.host, "10.0.0.7")
        XCTAssertEqual(settings.port, 6380)
        XCTAssertEqual(settings.database, 3)
        XCTAssertEqual(settings.password, "s@cret")
        XCTAssertEqual(settings.prefix, "shop:")
        XCTAssertEqual(settings.connectTimeoutMilliseconds, 500)
        XCTAssertEqual(settings.claimIdleMilliseconds, 1500)
        XCTAssertEqual(settings.streamMaxEvents, 0)
        XCTAssertNil(try ClusterRedisSettings.parse([:], file: "t.toml"), "no [cluster] redis: nothing changes")
        let plain = try ClusterRedisSettings(url: "redis://localhost")
        XCTAssertEqual(plain.host, "localhost")
        XCTAssertEqual(plain.port, 6379)
        XCTAssertEqual(plain.database, 0)
        XCTAssertNil(plain.password)
    }

    func testBadSettingsAreRefusedNamingTheKey() {
        let cases: [([String: String], String)] = [
            (["cluster.redis": "http://x"], "does not start with redis://"),
            (["cluster.redis": "rediss://x:6379"], "asks for TLS"),
            (["cluster.redis": "rediss://x:6379"], "fix: run a local TLS proxy"),
            (["cluster.redis": "redis://x:99999"], "not 1-65535"),
            (["cluster.redis": "redis://x:6379/16"], "not 0-15"),
            (["cluster.redis": "redis://:6379"], "has no host"),
            (["cluster.redis": "redis://x", "cluster.redis_prefix": "a*b"], "cluster.redis_prefix"),
            (["cluster.redis": "redis://x", "cluster.redis_prefix": ""], "cluster.redis_prefix"),
            (["cluster.redis": "redis://x", "cluster.redis_command_timeout_ms": "0"], "cluster.redis_command_timeout_ms"),
            (["cluster.redis": "redis://x", "cluster.redis_claim_idle_ms": "-5"], "cluster.redis_claim_idle_ms"),
            (["cluster.redis": "redis://x", "cluster.redis_tls": "true"], "unknown setting cluster.redis_tls"),
            (["cluster.redis": "redis://x", "cluster.redis_tls": "true"], "local TLS proxy"),
            (["cluster.redis": "redis://x", "cluster.redis_wait_replicas": "17"], "cluster.redis_wait_replicas"),
            (["cluster.redis": "redis://x", "cluster.redis_wait_timeout_ms": "0"], "cluster.redis_wait_timeout_ms"),
            (["cluster.redis_password": "x"], "cluster.redis is not"),
        ]
        for (values, expected) in cases {
            XCTAssertThrowsError(try ClusterRedisSettings.parse(values, file: "t.toml"), "\(values)") { error in
                XCTAssertTrue("\(error)".contains(expected), "\(values): \(error)")
            }
        }
    }

    func testTheConfigFileReadsOnlyTheRedisKeysOfCluster() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("cluster-\(UUID().uuidString).toml")
        defer { try? FileManager.default.removeItem(at: file) }
        try "[cluster]\nredis = \"redis://127.0.0.1:7000/1\"\nredis_prefix = \"a:\"\n".write(to: file, atomically: true, encoding: .utf8)
        let config = try RuntimeConfig(file: file)
        XCTAssertEqual(config.clusterRedis?.port, 7000)
        XCTAssertEqual(config.clusterRedis?.prefix, "a:")
        try "[server]\nlisten = \"127.0.0.1:0\"\n".write(to: file, atomically: true, encoding: .utf8)
        XCTAssertNil(try RuntimeConfig(file: file).clusterRedis)
        try "[cluster]\nredis = \"redis://x\"\nmemcached = \"x\"\n".write(to: file, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try RuntimeConfig(file: file), "a cluster key nobody reads is refused") { error in
            XCTAssertTrue("\(error)".contains("cluster.memcached"), "\(error)")
        }
    }

    func testPatternsMapToEscapedGlobs() throws {
        let keys = ClusterKeys(prefix: "p[1]:")
        XCTAssertEqual(keys.glob(for: try TopicPattern("orders.created")), #"p\[1\]:ev.orders.created"#)
        XCTAssertEqual(keys.glob(for: try TopicPattern("orders.+.created")), #"p\[1\]:ev.orders.*.created"#)
        XCTAssertEqual(keys.glob(for: try TopicPattern("orders.#")), #"p\[1\]:ev.orders*"#)
        XCTAssertEqual(keys.glob(for: try TopicPattern("#")), #"p\[1\]:ev.*"#)
        XCTAssertEqual(keys.glob(for: try TopicPattern("+")), #"p\[1\]:ev.*"#)
        // Glob metacharacters inside topic segments are literal.
        XCTAssertEqual(keys.glob(for: try TopicPattern("a*b.c?d.[x].e\\f")), #"p\[1\]:ev.a\*b.c\?d.\[x\].e\\f"#)
        XCTAssertEqual(keys.channel("a*b.c"), "p[1]:ev.a*b.c")
        XCTAssertEqual(keys.topic(ofChannel: "p[1]:ev.a*b.c"), "a*b.c")
        XCTAssertNil(keys.topic(ofChannel: "other:ev.a"))
    }

    func testTheCodecRoundTripsEveryFieldAndRefusesDamage() throws {
        let payload = Data([0, 1, 2, 255, 0x0A, 0x0D])
        let event = EventEnvelope(id: ULIDGenerator().next(), topic: "orders.eu.created", source: "shop", tenant: "acme",
                                  time: Date(timeIntervalSince1970: 1_800_000_000.123), priority: -3, contentType: "application/octet-stream",
                                  payload: payload, correlationID: "corr", causationID: nil, schemaVersion: 4)
        let bytes = ClusterEnvelopeCodec.encode(event, origin: "host-1")
        let decoded = try XCTUnwrap(ClusterEnvelopeCodec.decode(bytes))
        XCTAssertEqual(decoded.origin, "host-1")
        XCTAssertEqual(decoded.event.id, event.id)
        XCTAssertEqual(decoded.event.topic, event.topic)
        XCTAssertEqual(decoded.event.tenant, "acme")
        XCTAssertEqual(decoded.event.payload, payload)
        XCTAssertEqual(decoded.event.priority, -3)
        XCTAssertEqual(decoded.event.correlationID, "corr")
        XCTAssertNil(decoded.event.causationID)
        XCTAssertEqual(decoded.event.schemaVersion, 4)
        XCTAssertEqual(decoded.event.time.timeIntervalSince1970, 1_800_000_000.123, accuracy: 0.001)
        // A slice (as the pub/sub message after its flag byte) decodes the same.
        XCTAssertEqual(ClusterEnvelopeCodec.decode(([1] + bytes)[1...])?.event.topic, event.topic)
        XCTAssertNil(ClusterEnvelopeCodec.decode(Array(bytes.dropLast())), "truncated")
        XCTAssertNil(ClusterEnvelopeCodec.decode([9] + bytes.dropFirst()), "unknown version")
        XCTAssertNil(ClusterEnvelopeCodec.decode([UInt8]()), "empty")
        var huge = bytes
        huge.replaceSubrange(1..<5, with: [0xFE, 0xFF, 0xFF, 0x7F])
        XCTAssertNil(ClusterEnvelopeCodec.decode(huge), "a length past the end")
    }

    func testEventIdsMapToStreamEntryIdsAndSortLikeThem() throws {
        let a = try XCTUnwrap(ClusterEnvelopeCodec.id(streamID: "1700000000000-0"))
        let b = try XCTUnwrap(ClusterEnvelopeCodec.id(streamID: "1700000000000-1"))
        let c = try XCTUnwrap(ClusterEnvelopeCodec.id(streamID: "1700000000001-0"))
        XCTAssertLessThan(a, b)
        XCTAssertLessThan(b, c)
        XCTAssertLessThan(a.description, b.description)
        XCTAssertEqual(ClusterEnvelopeCodec.streamID(b), "1700000000000-1")
        XCTAssertEqual(ULID(c.description).map(ClusterEnvelopeCodec.streamID), "1700000000001-0")
        XCTAssertNil(ClusterEnvelopeCodec.id(streamID: "abc"))
        XCTAssertNil(ClusterEnvelopeCodec.id(streamID: "1-2-3"))
    }

    func testKeyRowsMergeWithRevocationWinning() throws {
        let sha = String(repeating: "ab", count: 32)
        var active = try XCTUnwrap(ClusterKeyRow(json: Array(#"{"id":"k1","name":"n","key_sha256":"\#(sha)","created_at":1}"#.utf8)))
        XCTAssertNil(active.revokedAt)
        var revoked = active
        revoked.revokedAt = 50
        XCTAssertEqual(active.merged(with: revoked).revokedAt, 50)
        XCTAssertEqual(revoked.merged(with: active).revokedAt, 50, "never un-revoked")
        active.revokedAt = 70
        XCTAssertEqual(active.merged(with: revoked).revokedAt, 50, "the earlier revocation")
        let merged = ClusterKeyRow.merge(["k1": revoked], ["k2": ClusterKeyRow(json: Array(#"{"id":"k2","name":"m","key_sha256":"\#(sha)"}"#.utf8))!])
        XCTAssertEqual(Set(merged.keys), ["k1", "k2"])
        XCTAssertEqual(ClusterKeyRow(json: revoked.json), revoked)
        XCTAssertNil(ClusterKeyRow(json: Array(#"{"id":"k","name":"n","key_sha256":"short"}"#.utf8)), "a damaged row")
        XCTAssertNil(ClusterKeyRow(json: Array("not json".utf8)))
    }
}

/// The service messages between instances.
final class ServiceMessageTests: XCTestCase {
    func testMessagesRoundTripAndDamageIsRefused() throws {
        let message = ServiceMessage(kind: .request, id: 0x0102_0304_0506_0708, timeoutMilliseconds: 1500, ok: true, from: "host-1-2",
                                     name: "probe.upper", payload: [0, 255, 10])
        XCTAssertEqual(ServiceMessage(message.bytes), message)
        let answer = ServiceMessage(kind: .reply, id: 7, timeoutMilliseconds: 0, ok: false, from: "h", name: "s", payload: Array("boom".utf8))
        XCTAssertEqual(ServiceMessage(answer.bytes), answer)
        XCTAssertNil(ServiceMessage(Array(message.bytes.dropLast())), "truncated")
        XCTAssertNil(ServiceMessage([9] + message.bytes.dropFirst()), "unknown kind")
        XCTAssertNil(ServiceMessage([UInt8](repeating: 1, count: 10)), "too short")
        var lying = message.bytes
        lying.replaceSubrange(18..<22, with: [0xFF, 0xFF, 0xFF, 0x7F])
        XCTAssertNil(ServiceMessage(lying), "a length past the end")
    }
}
