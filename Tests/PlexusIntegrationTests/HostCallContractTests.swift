import Foundation
import PlexusTesting
import XCTest

/// The host-call contract written at the top of `plexus_abi.h`, checked from a C plugin
/// (`Tests/Fixtures/CPlugins/contract.c`) against the real runtime: inputs copied before a host
/// call returns, no callback inside the call that registered it, status codes (ABI 1.4), and
/// the calls declared thread-safe made from several threads at once.
final class HostCallContractTests: XCTestCase {
    private func value(_ text: String, _ series: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
    }

    func testTheRuntimeKeepsTheHostCallContract() throws {
        let plexus = try Repository.startPlexus(swiftPlugins: [], cFixtures: ["contract-c"])
        XCTAssertEqual(try plexus.pluginsByFile()["contract-c.so"]?["state"] as? String, "running",
                       "its route spec was spoiled right after route_add:\n\(plexus.log)")
        // Twice: the second run meets existing storage rows and a warm bus.
        for run in 1...2 {
            let answer = try plexus.get("/api/v1/c/contract")
            XCTAssertEqual(answer.status, 200, answer.text)
            XCTAssertTrue(answer.text.hasPrefix("contract ok: "), "run \(run):\n\(answer.text)")
        }
        // 4 threads x 500 records per run, split by parity, applied on the loop.
        var text = ""
        for _ in 0..<50 {
            text = try plexus.get("/metrics").text
            if value(text, #"contract_c_contract_records_total{parity="odd"}"#) == 2000 { break }
            usleep(50_000)
        }
        XCTAssertEqual(value(text, #"contract_c_contract_records_total{parity="odd"}"#), 2000, text)
        XCTAssertEqual(value(text, #"contract_c_contract_records_total{parity="even"}"#), 2000, text)
    }
}
