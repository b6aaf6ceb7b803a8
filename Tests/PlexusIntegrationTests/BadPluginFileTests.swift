import Foundation
import PlexusTesting
import XCTest

/// Plugin files that are not whole shared objects for this machine (truncated, patched headers,
/// another architecture) or that crash the dynamic loader: refused with a diagnosis, or
/// quarantined by the master before a worker loads them; the other plugins keep serving.
final class BadPluginFileTests: XCTestCase {
    /// The malformed fixtures of Tests/Fixtures/CPlugins/build.sh and what the diagnosis must say.
    static let malformed: [(fixture: String, says: String)] = [
        ("elf-truncated", "truncated or corrupt: program header"),
        ("elf-header-cut", "the ELF header needs 64 bytes, the file has only 40"),
        ("elf-bad-phoff", "truncated or corrupt: the program header table"),
        ("elf-bad-shoff", "truncated or corrupt: the section header table"),
        ("elf-segment-past-eof", "(PT_LOAD) starts at byte"),
        ("elf-wrong-machine", "built for RISC-V, this runtime runs on"),
        ("elf-32bit", "a 32-bit ELF object (expected 64-bit"),
        ("elf-executable", "an executable, not a shared object"),
        ("elf-many-phdrs", "65535 program headers"),
        ("empty", "found an empty file"),
    ]

    /// `libPlexusHello.so` cut to its first 3000 bytes, as `head -c 3000` would, in a fresh directory.
    private func truncatedSwiftPlugin(named name: String = "t.so") throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("plexus-bad-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let whole = try Data(contentsOf: Repository.binDirectory.appendingPathComponent("libPlexusHello.so"))
        let file = directory.appendingPathComponent(name)
        try whole.prefix(3000).write(to: file)
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        return file
    }

    private func fixture(_ name: String) throws -> URL {
        try Repository.cFixturesDirectory().appendingPathComponent("\(name).so")
    }

    private func waitForLog(_ plexus: TestRuntime, _ text: String, count: Int = 1, seconds: Double = 20,
                            file: StaticString = #filePath, line: UInt = #line) {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if plexus.log.components(separatedBy: text).count - 1 >= count { return }
            usleep(50_000)
        }
        XCTFail("'\(text)' not seen \(count) time(s) in the log:\n\(plexus.log)", file: file, line: line)
    }

    private func assertHelloAnswers(_ plexus: TestRuntime, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual((try? plexus.get("/api/v1/c/hello"))?.status, 200, plexus.log, file: file, line: line)
    }

    func testInspectDiagnosesEveryMalformedFileAndExits1WithoutCrashing() throws {
        var cases = try Self.malformed.map { (try fixture($0.fixture), $0.says) }
        cases.append((try truncatedSwiftPlugin(), "truncated or corrupt: program header"))
        for (file, says) in cases {
            let result = try CLI.run(["plugin", "inspect", file.path])
            XCTAssertEqual(result.status, 1, "\(file.lastPathComponent): \(result.text)")
            XCTAssertTrue(result.text.contains("not loadable: \(file.lastPathComponent): "), "\(file.lastPathComponent): \(result.text)")
            XCTAssertTrue(result.text.contains(says), "\(file.lastPathComponent) should say '\(says)': \(result.text)")
            XCTAssertTrue(result.text.contains("fix: "), "\(file.lastPathComponent): \(result.text)")
        }
        XCTAssertEqual(try CLI.run(["plugin", "inspect", try fixture("hello-c").path]).status, 0, "a whole file still passes")
    }

    func testInspectOfAFileThatCrashesTheLoaderSaysSoAndExits1() throws {
        let result = try CLI.run(["plugin", "inspect", try fixture("crash-load").path])
        XCTAssertEqual(result.status, 1, result.text)
        XCTAssertTrue(result.text.contains("not loadable: crash-load.so: loading it crashed the process with SIGSEGV"), result.text)
    }

    func testSupervisedServeWithATruncatedPluginServesTheOthersAndNamesTheFile() throws {
        let plexus = try TestRuntime(binary: Repository.plexusBinary, plugins: [try fixture("hello-c"), try truncatedSwiftPlugin()],
                                     extra: "[supervisor]\nenabled = true\n")
        assertHelloAnswers(plexus)
        let entry = try XCTUnwrap(try plexus.pluginsByFile()["t.so"], plexus.log)
        XCTAssertEqual(entry["state"] as? String, "failed")
        XCTAssertTrue((entry["reason"] as? String ?? "").contains("t.so: not a loadable shared object: truncated or corrupt"), "\(entry)")
        XCTAssertTrue(plexus.log.contains("plugin file t.so will not load: t.so: not a loadable shared object"), plexus.log)
        XCTAssertFalse(plexus.log.contains("died from"), "no worker died:\n\(plexus.log)")
        XCTAssertEqual(plexus.stop(), 0)
    }

    func testSupervisedServeQuarantinesAFileThatCrashesTheLoaderBeforeAnyWorkerLoadsIt() throws {
        let plexus = try TestRuntime(binary: Repository.plexusBinary, plugins: [try fixture("hello-c"), try fixture("crash-load")],
                                     extra: "[supervisor]\nenabled = true\n")
        assertHelloAnswers(plexus)
        XCTAssertTrue(plexus.log.contains("plugin file crash-load.so quarantined before any worker loads it: loading it crashed a throw-away check process with SIGSEGV"), plexus.log)
        XCTAssertFalse(plexus.log.contains("died from"), "no worker died:\n\(plexus.log)")
        let entry = try XCTUnwrap(try plexus.pluginsByFile()["crash-load.so"])
        XCTAssertTrue((entry["reason"] as? String ?? "").hasPrefix("quarantined: loading it crashed"), "\(entry)")
        let quarantine = try JSONSerialization.jsonObject(with: Data(contentsOf: plexus.workDirectory.appendingPathComponent("data/quarantine.json"))) as? [String: Any]
        XCTAssertNotNil(quarantine?["crash-load.so"], "\(quarantine ?? [:])")

        // A new file that crashes the loader, dropped in while serving: checked before the reload's worker loads it.
        let target = plexus.pluginsDirectory.appendingPathComponent("late.so")
        let temporary = plexus.workDirectory.appendingPathComponent(".late.so")
        try FileManager.default.copyItem(at: try fixture("crash-load"), to: temporary)
        XCTAssertEqual(rename(temporary.path, target.path), 0)
        waitForLog(plexus, "plugin file late.so quarantined before any worker loads it")
        waitForLog(plexus, "reload complete")
        assertHelloAnswers(plexus)
        XCTAssertFalse(plexus.log.contains("died from"), "no worker died:\n\(plexus.log)")
        XCTAssertEqual(plexus.stop(), 0)
    }

    func testAFileThatCrashesOnlyTheWorkersLoaderIsBlamedByFileNameAndQuarantined() throws {
        // Passes the master's check (it crashes only in a worker, as a file replaced between the
        // check and the load would): the load itself is marked in the blame record.
        let plexus = try TestRuntime(binary: Repository.plexusBinary, plugins: [try fixture("hello-c"), try fixture("crash-load-worker")],
                                     extra: "[supervisor]\nenabled = true\n")
        waitForLog(plexus, "crashed in plugin 'crash-load-worker.so' (loading the file (dlopen and the entry point)) from SIGSEGV", count: 3)
        waitForLog(plexus, "plugin 'crash-load-worker.so' quarantined")
        assertHelloAnswers(plexus)
        let entry = try XCTUnwrap(try plexus.pluginsByFile()["crash-load-worker.so"])
        XCTAssertTrue((entry["reason"] as? String ?? "").hasPrefix("quarantined: crashed the worker 3 times"), "\(entry)")
        XCTAssertFalse(plexus.log.contains("with no plugin code running"), plexus.log)
        XCTAssertEqual(plexus.stop(), 0)
    }

    func testUnsupervisedServeRefusesATruncatedPluginWithADiagnosis() throws {
        let plexus = try TestRuntime(binary: Repository.plexusBinary, plugins: [try fixture("hello-c"), try truncatedSwiftPlugin()],
                                     extra: "[supervisor]\nenabled = false\n")
        assertHelloAnswers(plexus)
        let entry = try XCTUnwrap(try plexus.pluginsByFile()["t.so"], plexus.log)
        XCTAssertEqual(entry["state"] as? String, "failed")
        XCTAssertTrue(plexus.log.contains("t.so: not a loadable shared object: truncated or corrupt: program header"), plexus.log)
        XCTAssertEqual(plexus.stop(), 0)
    }

    func testUnsupervisedServeDoesNotLoadAFileThatCrashesTheLoader() throws {
        let plexus = try TestRuntime(binary: Repository.plexusBinary, plugins: [try fixture("hello-c"), try fixture("crash-load")],
                                     extra: "[supervisor]\nenabled = false\n")
        assertHelloAnswers(plexus)
        let entry = try XCTUnwrap(try plexus.pluginsByFile()["crash-load.so"], plexus.log)
        XCTAssertEqual(entry["state"] as? String, "failed")
        XCTAssertTrue((entry["reason"] as? String ?? "").hasPrefix("crash-load.so: not loaded: loading it crashed the process with SIGSEGV"), "\(entry)")
        XCTAssertEqual(plexus.stop(), 0)
    }

    func testCrashInOffLoopWorkIsBlamedOnItsPluginAndQuarantines() throws {
        let plexus = try TestRuntime(binary: Repository.plexusBinary, plugins: [try fixture("hello-c"), try fixture("crash-offloop")],
                                     extra: "[supervisor]\nenabled = true\n")
        assertHelloAnswers(plexus)
        let culprit = "crashed in plugin 'crash-offloop' (queue_work (off-loop work)) from SIGSEGV"
        for crash in 1...3 {
            _ = try? plexus.get("/api/v1/c/offloop")  // never answered: the worker dies
            waitForLog(plexus, culprit, count: crash)
            assertHelloAnswers(plexus)
        }
        waitForLog(plexus, "plugin 'crash-offloop' quarantined")
        XCTAssertFalse(plexus.log.contains("with no plugin code running"), plexus.log)
        XCTAssertEqual(try plexus.get("/api/v1/c/offloop").status, 404, "a quarantined plugin's route is gone")
        XCTAssertEqual(plexus.stop(), 0)
    }

    func testCrashInAStorageCallbackIsBlamedOnItsPlugin() throws {
        let plexus = try TestRuntime(binary: Repository.plexusBinary, plugins: [try fixture("hello-c"), try fixture("crash-storage")],
                                     extra: "[supervisor]\nenabled = true\n")
        assertHelloAnswers(plexus)
        _ = try? plexus.get("/api/v1/c/storage")  // never answered: the worker dies
        waitForLog(plexus, "crashed in plugin 'crash-storage' (kv_get callback) from SIGSEGV")
        XCTAssertFalse(plexus.log.contains("with no plugin code running"), plexus.log)
        assertHelloAnswers(plexus)
        XCTAssertEqual(plexus.stop(), 0)
    }

    func testCrashOnAThreadThePluginStartedIsBlamedByTheCrashAddress() throws {
        let plexus = try TestRuntime(binary: Repository.plexusBinary, plugins: [try fixture("hello-c"), try fixture("crash-thread")],
                                     extra: "[supervisor]\nenabled = true\n")
        assertHelloAnswers(plexus)
        for crash in 1...3 {
            _ = try? plexus.get("/api/v1/c/thread")  // never answered: the worker dies
            waitForLog(plexus, "crashed in plugin 'crash-thread.so' (code on thread ", count: crash)
            assertHelloAnswers(plexus)
        }
        waitForLog(plexus, "plugin 'crash-thread.so' quarantined")
        XCTAssertFalse(plexus.log.contains("with no plugin code running"), plexus.log)
        XCTAssertEqual(try plexus.get("/api/v1/c/thread").status, 404, "quarantined by its file name: not loaded")
        XCTAssertEqual(try plexus.pluginsByFile()["crash-thread.so"]?["state"] as? String, "failed")
        XCTAssertEqual(plexus.stop(), 0)
    }

    func testCrashInAServiceReplyIsBlamedOnTheCallingPlugin() throws {
        let plexus = try TestRuntime(binary: Repository.plexusBinary, plugins: [try fixture("hello-c"), try fixture("crash-reply")],
                                     extra: "[supervisor]\nenabled = true\n")
        assertHelloAnswers(plexus)
        _ = try? plexus.get("/api/v1/c/reply")  // never answered: the worker dies
        waitForLog(plexus, "crashed in plugin 'crash-reply' (service fixture.nobody.offers.this reply) from SIGSEGV")
        XCTAssertFalse(plexus.log.contains("with no plugin code running"), plexus.log)
        assertHelloAnswers(plexus)
        XCTAssertEqual(plexus.stop(), 0)
    }
}
