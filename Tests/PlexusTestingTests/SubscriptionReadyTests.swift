import Foundation
import PlexusSDK
import PlexusTesting
import XCTest

/// A plugin with nothing of its own: the tests subscribe through its context's bus.
@PluginActor
final class QuietPlugin: Plugin {
    static let manifest = PluginManifest(name: "quiet", version: "1.0.0", description: "test: a context to subscribe with")

    init(context: PluginContext) throws {}
}

/// `Subscription.ready()` in the in-process host: a subscription in memory is complete on the
/// next turn of the loop (never inside `subscribe`, as with the runtime's ABI 1.10 callback); a
/// cancelled one never becomes complete and its waiters are told.
final class SubscriptionReadyTests: XCTestCase {
    func testReadyReturnsOnceCompleteAndEventsAfterItAreDelivered() async throws {
        _ = InProcessLoop.shared   // binds the plugin actor to the test loop before any job
        try await Self.readyThenPublish()
    }

    func testACancelledSubscriptionIsNeverReadyAndItsWaitersAreTold() async throws {
        _ = InProcessLoop.shared
        try await Self.cancelBeforeReady()
    }

    @PluginActor
    static func readyThenPublish() async throws {
        let host = try await TestHost.start(QuietPlugin.self)
        var seen: [String] = []
        let subscription = try host.context.bus.subscribe("orders.#") { seen.append($0.topic) }
        XCTAssertFalse(subscription.isComplete, "not complete inside subscribe")
        try await subscription.ready()
        XCTAssertTrue(subscription.isComplete)
        try await subscription.ready()   // again: returns at once
        try host.publish("orders.placed", payload: [])
        for _ in 0..<200 where seen.isEmpty { await host.advance() }
        XCTAssertEqual(seen, ["orders.placed"])
        await host.stop()
    }

    @PluginActor
    static func cancelBeforeReady() async throws {
        let host = try await TestHost.start(QuietPlugin.self)
        let subscription = try host.context.bus.subscribe("orders.#") { _ in }
        let waiter = Task { @PluginActor in try await subscription.ready() }
        subscription.cancel()
        do {
            try await waiter.value
            XCTFail("ready returned for a cancelled subscription")
        } catch let error as PluginError {
            XCTAssertEqual(error.description, "subscription \(subscription.id) ended before it was complete")
        }
        await host.advance()
        XCTAssertFalse(subscription.isComplete, "the loop's turn after the cancel does not complete it")
        do {
            try await subscription.ready()
            XCTFail("ready returned for a cancelled subscription")
        } catch is PluginError {}
        await host.stop()
    }
}
