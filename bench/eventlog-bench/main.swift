// eventlog-bench: benchmark and crash-test driver for PlexusEventLog.
//
//   eventlog-bench append-forever DB
//       Appends events from 4 threads until killed, printing each acknowledged id on stdout,
//       one per line, only after the append's completion reported success (used by the
//       at-least-once-across-SIGKILL test).
//   eventlog-bench bench [--publishers N] [--events N] [--payload BYTES] [--durability full|normal] [--db PATH]
//       N publisher threads each append and wait for the acknowledgement (durable publish);
//       prints events/s and publish latency percentiles.
import Foundation
import PlexusEventLog

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("eventlog-bench: \(message)\n".utf8))
    exit(2)
}

/// Appends and waits for the acknowledgement.
func appendAndWait(_ log: EventLog, _ envelope: EventEnvelope) -> Result<AppendReceipt, EventLogError> {
    let done = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var outcome: Result<AppendReceipt, EventLogError>?
    log.append(envelope) { result in
        outcome = result
        done.signal()
    }
    done.wait()
    return outcome!
}

func appendForever(path: String) -> Never {
    let log: EventLog
    do { log = try EventLog.openBlocking(at: path) } catch { fail("open: \(error)") }
    let output = NSLock()
    for worker in 0..<4 {
        Thread.detachNewThread {
            var counter = 0
            while true {
                counter += 1
                let envelope = EventEnvelope(topic: "crash.w\(worker)", source: "eventlog-bench", payload: Data("event \(worker)-\(counter)".utf8))
                switch appendAndWait(log, envelope) {
                case .success(let receipt):
                    output.lock()
                    FileHandle.standardOutput.write(Data("\(receipt.id)\n".utf8))
                    output.unlock()
                case .failure(let error):
                    fail("append: \(error)")
                }
            }
        }
    }
    while true { sleep(60) }
}

func bench(arguments: [String]) {
    var publishers = 50
    var events = 200_000
    var payloadSize = 64
    var durability = Durability.full
    var path: String?
    var index = 0
    func value() -> String {
        index += 1
        guard index < arguments.count else { fail("missing value for \(arguments[index - 1])") }
        return arguments[index]
    }
    while index < arguments.count {
        switch arguments[index] {
        case "--publishers": publishers = Int(value()) ?? publishers
        case "--events": events = Int(value()) ?? events
        case "--payload": payloadSize = Int(value()) ?? payloadSize
        case "--durability": durability = value() == "normal" ? .normal : .full
        case "--db": path = value()
        default: fail("unknown option \(arguments[index])")
        }
        index += 1
    }
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("eventlog-bench-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let dbPath = path ?? directory.appendingPathComponent("bench.sqlite").path
    defer { if path == nil { try? FileManager.default.removeItem(at: directory) } }

    let log: EventLog
    do { log = try EventLog.openBlocking(at: dbPath, configuration: EventLogConfiguration(durability: durability, verifyOnOpen: false)) } catch { fail("open: \(error)") }
    let payload = Data(repeating: 0x61, count: payloadSize)
    let perPublisher = events / publishers
    let total = perPublisher * publishers
    let latencies = UnsafeMutableBufferPointer<Double>.allocate(capacity: total)
    nonisolated(unsafe) let shared = latencies
    let group = DispatchGroup()
    let start = DispatchTime.now().uptimeNanoseconds
    for publisher in 0..<publishers {
        group.enter()
        Thread.detachNewThread {
            for n in 0..<perPublisher {
                let envelope = EventEnvelope(topic: "bench.p\(publisher)", source: "eventlog-bench", payload: payload)
                let begin = DispatchTime.now().uptimeNanoseconds
                if case .failure(let error) = appendAndWait(log, envelope) { fail("append: \(error)") }
                shared[publisher * perPublisher + n] = Double(DispatchTime.now().uptimeNanoseconds - begin) / 1e6
            }
            group.leave()
        }
    }
    group.wait()
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    let sorted = Array(latencies).sorted()
    latencies.deallocate()
    func percentile(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
    let stats = log.statistics
    let done = DispatchSemaphore(value: 0)
    log.close { _ in done.signal() }
    done.wait()
    print(String(format: "eventlog: durability=%@ publishers=%d events=%d seconds=%.2f events_per_sec=%.0f p50_ms=%.2f p99_ms=%.2f transactions=%d avg_batch=%.1f",
                 durability == .full ? "full" : "normal", publishers, total, seconds, Double(total) / seconds,
                 percentile(0.50), percentile(0.99), stats.transactions, Double(stats.appendedEvents) / Double(max(1, stats.transactions))))
}

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "append-forever":
    guard arguments.count == 2 else { fail("usage: eventlog-bench append-forever DB") }
    appendForever(path: arguments[1])
case "bench":
    bench(arguments: Array(arguments.dropFirst()))
default:
    fail("usage: eventlog-bench append-forever DB | bench [--publishers N] [--events N] [--payload BYTES] [--durability full|normal] [--db PATH]")
}
