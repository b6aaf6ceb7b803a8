import Foundation
import WorkflowEngine

// workflows-bench: the engine's own costs, each beside a hand-written peer in the same run.
//   workflows-bench router EVENTS   a 1,000-event batching rule vs a hand-written batcher (µs per event added)
//   workflows-bench replay INSTANCES a 5-step workflow driven by the interpreter vs the same steps appended by hand
// Prints one `figure:` line per measure; exit 1 when the work did not happen.

func now() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("workflows-bench: \(message)\n".utf8))
    exit(1)
}

let arguments = CommandLine.arguments
guard arguments.count == 3, let count = Int(arguments[2]), count > 0 else { fail("usage: workflows-bench router EVENTS | replay INSTANCES") }

switch arguments[1] {
case "router":
    let payloads: [JSON] = (0..<count).map { .object(["sensor": .string("s\($0 % 8)"), "value": .number(Double($0)), "unit": .string("C")]) }
    let rule = try RoutingRule.parse(JSON.parse(#"{"name": "batch", "match": "sensor.+", "topic": "routed.batch", "aggregate": {"count": 1000}}"#)!)
    let router = Router(rules: [rule])
    var batches = 0
    var started = now()
    for payload in payloads { batches += router.route(topic: "sensor.reading", payload: payload, now: 0).count }
    let ruleSeconds = now() - started
    // The peer: the same batching written by hand (append; every 1,000th event emits a batch event).
    var peerBatches = 0
    var batch: [JSON] = []
    batch.reserveCapacity(1000)
    started = now()
    let topic = "sensor.reading"
    for payload in payloads {
        guard topic.hasPrefix("sensor.") else { continue }
        batch.append(payload)
        if batch.count == 1000 {
            let event: JSON = .object(["count": .number(1000), "items": .array(batch)])
            if event["count"] != nil { peerBatches += 1 }
            batch.removeAll(keepingCapacity: true)
        }
    }
    let peerSeconds = now() - started
    // The rule as the plugin runs it: journaling on, the journal taken after every event and each batch item
    // serialised as it is stored (the SQLite write itself, group-committed by the plugin, is not in this figure).
    let journaled = Router(rules: [rule])
    journaled.journaling = true
    var journalBytes = 0
    var journaledBatches = 0
    started = now()
    for payload in payloads {
        journaledBatches += journaled.route(topic: "sensor.reading", payload: payload, now: 0).count
        for change in journaled.takeJournal() {
            if case let .batchItem(_, _, _, _, _, item) = change { journalBytes += item.text.utf8.count }
        }
    }
    let journaledSeconds = now() - started
    guard batches == count / 1000, peerBatches == batches, router.counts("batch")?.batched == count,
          journaledBatches == batches, journalBytes > 0 else { fail("the rule did not batch every event") }
    let perEvent = ruleSeconds / Double(count) * 1e6, peerPerEvent = peerSeconds / Double(count) * 1e6
    print(String(format: "figure: router events=%d batches=%d rule=%.3f us/event hand-written=%.3f us/event added=%.3f us/event ratio=%.1fx journaled=%.3f us/event",
                 count, batches, perEvent, peerPerEvent, perEvent - peerPerEvent, perEvent / max(peerPerEvent, 1e-9),
                 journaledSeconds / Double(count) * 1e6))
case "replay":
    let definition = try DefinitionParser().parse(Array("""
    {"name": "five", "steps": [
      {"id": "s1", "type": "call", "service": "noop.a", "output": "r1"}, {"id": "s2", "type": "call", "service": "noop.b", "output": "r2"},
      {"id": "s3", "type": "call", "service": "noop.c", "output": "r3"}, {"id": "s4", "type": "call", "service": "noop.d", "output": "r4"},
      {"id": "s5", "type": "call", "service": "noop.e", "output": "r5"}]}
    """.utf8))
    // The engine: evaluate, record, call (a no-op reply), record, until completed; entries serialised as stored.
    var bytes = 0
    var steps = 0
    var started = now()
    for n in 0..<count {
        let id = "wf-\(n)"
        var history = [HistoryEvent(.started, data: .object([:]), time: 0)]
        var cache = HistoryCache()
        bytes += history[0].text.utf8.count
        while true {
            let evaluation = Interpreter.evaluate(definition, instanceID: id, history: history, now: 0, cache: &cache)
            guard let action = evaluation.actions.first else { fail("instance \(id) stalled") }
            var event: HistoryEvent
            switch action {
            case let .record(recorded): event = recorded
            case let .call(step, attempt, _, _, _):
                event = HistoryEvent(.stepCompleted, step: step, attempt: attempt, data: .object(["ok": .bool(true)]), time: 0)
                steps += 1
            default: fail("unexpected action \(action)")
            }
            bytes += event.text.utf8.count
            history.append(event)
            if event.isTerminal { break }
        }
    }
    let engineSeconds = now() - started
    // The peer: the same entries written by hand, no interpreter.
    var peerBytes = 0
    started = now()
    for n in 0..<count {
        peerBytes += HistoryEvent(.started, data: .object([:]), name: "wf-\(n)", time: 0).text.utf8.count
        for step in 1...5 {
            peerBytes += HistoryEvent(.stepScheduled, step: "s\(step)", attempt: 1, time: 0).text.utf8.count
            peerBytes += HistoryEvent(.stepCompleted, step: "s\(step)", attempt: 1, data: .object(["ok": .bool(true)]), time: 0).text.utf8.count
        }
        peerBytes += HistoryEvent(.completed, data: .object([:]), time: 0).text.utf8.count
    }
    let peerSeconds = now() - started
    guard steps == count * 5, bytes > 0, peerBytes > 0 else { fail("the steps did not run") }
    print(String(format: "figure: replay instances=%d steps=%d engine=%.2f us/step by-hand=%.2f us/step interpreter=%.2f us/step",
                 count, steps, engineSeconds / Double(steps) * 1e6, peerSeconds / Double(steps) * 1e6, (engineSeconds - peerSeconds) / Double(steps) * 1e6))
default:
    fail("unknown mode '\(arguments[1])'")
}
