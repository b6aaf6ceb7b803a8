import Foundation
import Logging
@testable import PlexusRuntime
import XCTest

/// The runtime's lifecycle: services start in order, stop in reverse, and a late one is named and left behind.
final class ServiceGroupTests: XCTestCase {
    func testStartsInOrderAndStopsInReverseGoingOnPastAStopThatNeverFinishes() {
        let log = CompletionLog()
        let finished = DispatchSemaphore(value: 0)
        let loop = EventLoop()
        let stuck = LoopServiceClosures("stuck store", start: { done in log.append("start stuck store"); done(nil) },
                                        stop: { _ in log.append("stop stuck store") })  // never calls done
        let group = ServiceGroup(loop: loop, logger: Logger(label: "test"), entries: [
            entry("event log", log), .init(service: stuck, startTimeout: 0, stopTimeout: 20), entry("plugins", log), entry("HTTP server", log),
        ])
        loop.execute {
            group.start { failure in
                XCTAssertNil(failure)
                XCTAssertEqual(group.startedNames, ["event log", "stuck store", "plugins", "HTTP server"])
                group.stop {
                    log.append("stopped")
                    loop.stop()
                    finished.signal()
                }
            }
        }
        loop.run()
        XCTAssertEqual(finished.wait(timeout: .now() + 30), .success)
        XCTAssertEqual(log.entries, ["start event log", "start stuck store", "start plugins", "start HTTP server",
                                     "stop HTTP server", "stop plugins", "stop stuck store", "stop event log", "stopped"])
        XCTAssertEqual(group.abandonedStops, ["stuck store"])
        loop.close()
    }

    func testAFailedStartStopsWhatStartedAndNamesTheCulprit() {
        let log = CompletionLog()
        let loop = EventLoop()
        struct Broken: Error, CustomStringConvertible { var description: String { "disk full" } }
        let failing = LoopServiceClosures("audit log and API keys", startNow: { throw Broken() }, stopNow: { log.append("stop audit") })
        let group = ServiceGroup(loop: loop, logger: Logger(label: "test"), entries: [
            entry("event log", log), .init(service: failing, startTimeout: 0, stopTimeout: 0), entry("plugins", log),
        ])
        var result: ServiceGroup.StartFailure?
        loop.execute {
            group.start { failure in
                result = failure
                loop.stop()
            }
        }
        loop.run()
        XCTAssertEqual(result?.service, "audit log and API keys")
        XCTAssertEqual(result?.description, "service 'audit log and API keys' did not start: disk full")
        XCTAssertTrue(result?.error is Broken)
        XCTAssertEqual(log.entries, ["start event log", "stop event log"], "the failed service and those after it are not stopped")
        loop.close()
    }

    func testAStartThatNeverFinishesFailsByNameAfterItsTimeLimit() {
        let log = CompletionLog()
        let loop = EventLoop()
        let hung = LoopServiceClosures("plugins", start: { _ in log.append("start plugins") }, stopNow: { log.append("stop plugins") })
        let group = ServiceGroup(loop: loop, logger: Logger(label: "test"), entries: [
            entry("event log", log), .init(service: hung, startTimeout: 20, stopTimeout: 0), entry("HTTP server", log),
        ])
        var result: ServiceGroup.StartFailure?
        loop.execute {
            group.start { failure in
                result = failure
                loop.stop()
            }
        }
        loop.run()
        XCTAssertEqual(result?.service, "plugins")
        XCTAssertEqual(result?.description, "service 'plugins' did not start: not started within 20 ms")
        XCTAssertNil(result?.error)
        XCTAssertEqual(log.entries, ["start event log", "start plugins", "stop event log"])
        loop.close()
    }

    func testAStopAskedForWhileStartingWaitsForThatStart() {
        let log = CompletionLog()
        let loop = EventLoop()
        var finishPlugins: ((Error?) -> Void)?
        let plugins = LoopServiceClosures("plugins", start: { done in log.append("start plugins"); finishPlugins = done },
                                          stop: { done in log.append("stop plugins"); done() })
        let group = ServiceGroup(loop: loop, logger: Logger(label: "test"), entries: [
            entry("event log", log), .init(service: plugins, startTimeout: 0, stopTimeout: 0), entry("HTTP server", log),
        ])
        loop.execute {
            group.start { _ in XCTFail("a start interrupted by a stop does not report") }
            group.stop {
                log.append("stopped")
                loop.stop()
            }
            log.append("plugins started")
            finishPlugins?(nil)
        }
        loop.run()
        XCTAssertEqual(log.entries, ["start event log", "start plugins", "plugins started", "stop plugins", "stop event log", "stopped"])
        loop.close()
    }

    private func entry(_ name: String, _ log: CompletionLog) -> ServiceGroup.Entry {
        .init(service: LoopServiceClosures(name, start: { done in log.append("start \(name)"); done(nil) },
                                           stop: { done in log.append("stop \(name)"); done() }),
              startTimeout: 0, stopTimeout: 1_000)
    }
}
