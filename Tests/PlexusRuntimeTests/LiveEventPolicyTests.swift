import Foundation
import Logging
@testable import PlexusAuth
@testable import PlexusEventLog
@testable import PlexusRuntime
import XCTest

/// Who sees and publishes which live events: tenant filtering before queueing, reserved topics,
/// stream tickets and sessions that end with their credentials.
final class LiveEventPolicyTests: XCTestCase {
    // MARK: Tenant filtering before queueing

    func testAnotherTenantsFloodCannotEvictAQueuedEvent() throws {
        let bus = EventBus(loop: EventLoop(), logger: Logger(label: "test"))
        var seen: [String] = []
        let subscription = bus.subscribe(try TopicPattern("t.#"), owner: "sse", queueLimit: 2,
                                         filter: { EventTenancy.visible($0, to: "globex") }) { seen.append("\($0.tenant):\($0.topic)") }
        bus.publish(EventEnvelope(topic: "t.mine", source: "t", tenant: "globex"))
        for n in 0..<50 { bus.publish(EventEnvelope(topic: "t.flood\(n)", source: "t", tenant: "acme")) }
        XCTAssertEqual(subscription.depth, 1, "acme's events never take globex's queue room")
        XCTAssertEqual(subscription.dropped, 0)
        _ = subscription.drain(budget: 10)
        XCTAssertEqual(seen, ["globex:t.mine"])
    }

    // MARK: Reserved topics

    private let reservations = TopicReservations(plugins: [
        (name: "doccompare", topics: ["document.changed", "document.compared"]),
        (name: "bus-probe", topics: ["probe.out.+"]),
        (name: "broken", topics: ["not a pattern"]),
    ])

    func testRuntimeNamespacesAreReservedForEveryone() {
        for topic in ["system.alert", "system", "deadletter.orders", "storage.doccompare.versions.insert"] {
            XCTAssertNotNil(reservations.refusal(of: topic, by: .client), topic)
            XCTAssertNotNil(reservations.refusal(of: topic, by: .plugin("doccompare")), topic)
        }
        XCTAssertTrue(reservations.refusal(of: "system.alert", by: .client)!.contains("published by the runtime only"))
    }

    func testDeclaredTopicsBelongToTheirPlugin() {
        XCTAssertNil(reservations.refusal(of: "document.changed", by: .plugin("doccompare")))
        XCTAssertNil(reservations.refusal(of: "probe.out.alpha", by: .plugin("bus-probe")))
        let client = reservations.refusal(of: "document.changed", by: .client)
        XCTAssertTrue(client?.contains("plugin 'doccompare' declares 'document.changed'") ?? false, client ?? "nil")
        XCTAssertNotNil(reservations.refusal(of: "document.changed", by: .plugin("timetable")))
        XCTAssertNotNil(reservations.refusal(of: "probe.out.x", by: .client), "a declared pattern reserves what it matches")
        for free in ["document.deleted", "orders.created", "probe.out.a.b", "systems.x", "not"] {
            XCTAssertNil(reservations.refusal(of: free, by: .client), free)
        }
    }

    // MARK: Stream tickets

    private func caller(apiKey id: String? = nil, expiresAt: Double? = nil) -> Caller {
        Caller(Identity(subject: "alice", tenant: "acme", method: id == nil ? .jwt : .apiKey, expiresAt: expiresAt, keyID: id))
    }

    func testTicketIsSingleUseAndShortLived() throws {
        let tickets = StreamTickets()
        let issued = try XCTUnwrap(tickets.issue(for: caller(apiKey: "k1"), now: 1_000))
        XCTAssertTrue(issued.ticket.hasPrefix(StreamTickets.prefix))
        XCTAssertGreaterThanOrEqual(issued.ticket.count, 40)
        XCTAssertEqual(issued.expiresAt, 1_030)
        let first = tickets.redeem(issued.ticket, now: 1_010, keyIsActive: { _ in true })
        XCTAssertEqual(try first.get().subject, "alice")
        XCTAssertEqual(try first.get().tenant, "acme")
        XCTAssertThrowsError(try tickets.redeem(issued.ticket, now: 1_011, keyIsActive: { _ in true }).get(), "second use")
        let late = try XCTUnwrap(tickets.issue(for: caller(apiKey: "k1"), now: 1_000))
        XCTAssertThrowsError(try tickets.redeem(late.ticket, now: 1_030, keyIsActive: { _ in true }).get()) {
            XCTAssertTrue("\($0)".contains("expired"), "\($0)")
        }
        XCTAssertNotEqual(late.ticket, issued.ticket)
    }

    func testTicketOfARevokedKeyOrExpiredTokenDoesNotAuthenticate() throws {
        let tickets = StreamTickets()
        let revoked = try XCTUnwrap(tickets.issue(for: caller(apiKey: "k1"), now: 1_000))
        XCTAssertThrowsError(try tickets.redeem(revoked.ticket, now: 1_001, keyIsActive: { $0 != "k1" }).get()) {
            XCTAssertTrue("\($0)".contains("revoked"), "\($0)")
        }
        let expiring = try XCTUnwrap(tickets.issue(for: caller(expiresAt: 1_005), now: 1_000))
        XCTAssertThrowsError(try tickets.redeem(expiring.ticket, now: 1_006, keyIsActive: { _ in true }).get())
    }

    // MARK: Sessions that end with their credentials

    private final class Session: LiveSession {
        var ended: [String] = []
        func endForCredentials(_ reason: String) { ended.append(reason) }
    }

    func testSessionsEndWhenTheirTokenExpiresNotBefore() {
        let sessions = LiveSessions(loop: EventLoop(), keys: { nil })
        defer { sessions.close() }
        let expiring = Session(), lasting = Session(), apiKey = Session()
        sessions.add(expiring, caller: caller(expiresAt: 2_000))
        sessions.add(lasting, caller: caller(expiresAt: 9_000))
        sessions.add(apiKey, caller: caller(apiKey: "k1"))
        sessions.check(now: 1_999)
        XCTAssertTrue(expiring.ended.isEmpty)
        sessions.check(now: 2_000)
        XCTAssertEqual(expiring.ended.count, 1)
        XCTAssertTrue(expiring.ended[0].contains("expired"), expiring.ended[0])
        sessions.check(now: 2_001)
        XCTAssertEqual(expiring.ended.count, 1, "ended once")
        XCTAssertTrue(lasting.ended.isEmpty)
        XCTAssertTrue(apiKey.ended.isEmpty)
        sessions.remove(lasting)
        sessions.check(now: 10_000)
        XCTAssertTrue(lasting.ended.isEmpty, "a removed session is no longer watched")
    }
}
