@testable import PlexusRuntime
import XCTest

/// A plugin publishes on the topics its manifest declares.
final class UndeclaredTopicTests: XCTestCase {
    func testOnlyDeclaredTopicsAreAPluginsOwn() {
        let reservations = TopicReservations(plugins: [(name: "probe", topics: ["probe.out.+"]), (name: "quiet", topics: [])])
        XCTAssertNil(reservations.undeclared("probe.out.alpha", by: "probe"))
        XCTAssertEqual(reservations.undeclared("probe.out.a.b", by: "probe"),
                       "topic 'probe.out.a.b' is not declared by plugin 'probe' (its manifest's publishes: 'probe.out.+'); fix: add a TopicDeclaration for it to the manifest's publishes")
        XCTAssertNotNil(reservations.undeclared("orders.free", by: "probe"))
        XCTAssertTrue(reservations.undeclared("anything", by: "quiet")?.contains("publishes: none") == true)
        #if DEBUG
        XCTAssertTrue(TopicReservations.refusesUndeclaredPublishes)
        #else
        XCTAssertFalse(TopicReservations.refusesUndeclaredPublishes)
        #endif
    }
}
