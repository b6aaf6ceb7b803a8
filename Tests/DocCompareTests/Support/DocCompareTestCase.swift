import Foundation
import PlexusTesting
import XCTest

/// A test class whose tests share one running plexus with the doccompare plugin.
class DocCompareTestCase: XCTestCase {
    private static var runtimes: [ObjectIdentifier: TestRuntime] = [:]

    override class func setUp() {
        super.setUp()
        runtimes[ObjectIdentifier(self)] = try? DocCompareHarness.start()
    }

    override class func tearDown() {
        _ = runtimes.removeValue(forKey: ObjectIdentifier(self))?.stop()
        super.tearDown()
    }

    /// The class's shared runtime (started on demand if the class-level start failed, to surface its error).
    func plexus() throws -> TestRuntime {
        if let runtime = Self.runtimes[ObjectIdentifier(type(of: self))] { return runtime }
        return try DocCompareHarness.start()
    }
}
