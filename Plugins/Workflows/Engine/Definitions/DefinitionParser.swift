import Foundation

/// Reads a definition from JSON and checks it: unknown step types and fields, duplicate ids,
/// jumps to unknown steps, cycles, references to unknown state fields, compensations of steps
/// that do not exist, out-of-range numbers. Every refusal is a ``DefinitionError`` with the
/// JSON path of the offending place.
public struct DefinitionParser: Sendable {
    /// Topic patterns a `publish` step may use (the plugin's declared topics); empty: any.
    public var publishable: [String]

    /// A parser that allows `publish` steps on `publishable` topics.
    public init(publishable: [String] = []) { self.publishable = publishable }

    /// State fields every instance has.
    public static let builtinFields = ["input", "instance", "error"]
    static let stepTypes = ["call", "parallel", "choice", "sleep", "wait_event", "wait_signal", "publish", "child", "fail"]
    static let commonFields: Set<String> = ["id", "type", "next", "on_error", "output", "optional", "compensate", "description"]
    static let fieldsByType: [String: Set<String>] = [
        "call": ["service", "plugin", "input", "timeout_ms", "retry"],
        "parallel": ["branches"],
        "choice": ["choices", "default"],
        "sleep": ["for_ms", "until"],
        "wait_event": ["topic", "correlate", "timeout_ms"],
        "wait_signal": ["signal", "timeout_ms"],
        "publish": ["topic", "payload"],
        "child": ["workflow", "input"],
        "fail": ["message"],
    ]

    /// Parses JSON text (bytes).
    public func parse(_ bytes: [UInt8]) throws -> Definition {
        guard let json = JSON.parse(bytes) else { throw DefinitionError("$", "the definition is not valid JSON") }
        return try parse(json)
    }

    /// Parses and checks `json`.
    public func parse(_ json: JSON) throws -> Definition {
        guard let root = json.object else { throw DefinitionError("$", "a definition is a JSON object, not \(json.typeName)") }
        for key in root.keys where !["name", "description", "input", "steps", "output", "compensations", "version", "trigger"].contains(key) {
            throw DefinitionError("$.\(key)", "unknown field '\(key)'; a definition has name, description, input, steps, output, compensations, trigger")
        }
        var trigger: (topic: String, input: Mapping)?
        if let given = root["trigger"] {
            guard let topic = given["topic"]?.string, !topic.isEmpty, topic.utf8.count <= 256,
                  topic.split(separator: ".", omittingEmptySubsequences: false).allSatisfy({ !$0.isEmpty && !$0.contains(where: { $0.isWhitespace }) }) else {
                throw DefinitionError("$.trigger.topic", "a trigger is {\"topic\": topic or pattern, \"input\": mapping over the event's payload}")
            }
            let input = Mapping(given["input"] ?? .string("$"))
            if let bad = input.malformed.first { throw DefinitionError("$.trigger.input" + bad.at, "'\(bad.text)' is not a path like $.field.sub[0]") }
            trigger = (topic, input)
        }
        guard let name = root["name"]?.string else { throw DefinitionError("$.name", "a definition needs a 'name' (text)") }
        guard Self.isName(name) else { throw DefinitionError("$.name", "'\(name.prefix(80))' is not a name: 1 to 64 of a-z, 0-9 and -, starting with a letter") }
        var inputFields: [String] = []
        if let input = root["input"] {
            guard let items = input.array, items.allSatisfy({ $0.string != nil }) else { throw DefinitionError("$.input", "'input' lists the required input fields as text") }
            inputFields = items.compactMap(\.string)
        }
        guard let stepsJSON = root["steps"] else { throw DefinitionError("$.steps", "a definition needs 'steps'") }
        var seen: [String: String] = [:]
        var steps = try parseList(stepsJSON, at: "$.steps", seen: &seen)
        if let compensations = root["compensations"] {
            guard let table = compensations.object else { throw DefinitionError("$.compensations", "'compensations' maps step ids to calls") }
            for key in table.keys.sorted() {
                let at = "$.compensations.\(key)"
                guard seen[key] != nil else {
                    throw DefinitionError(at, "no step '\(key)' to compensate; steps: \(seen.keys.sorted().joined(separator: ", "))")
                }
                let call = try parseCall(table[key]!, at: at, compensation: true)
                steps = Self.attach(call, to: key, in: steps)
            }
        }
        let definition = Definition(name: name, description: root["description"]?.string ?? "", inputFields: inputFields,
                                    steps: steps, output: root["output"].map(Mapping.init), trigger: trigger)
        try checkReferences(definition, root: root, seen: seen)
        return definition
    }

    // MARK: Steps

    private func parseList(_ json: JSON, at: String, seen: inout [String: String]) throws -> [Step] {
        guard let items = json.array, !items.isEmpty else { throw DefinitionError(at, "steps are a non-empty array of step objects") }
        guard items.count <= 500 else { throw DefinitionError(at, "\(items.count) steps; at most 500 in one list") }
        var steps: [Step] = []
        for (index, item) in items.enumerated() {
            steps.append(try parseStep(item, at: "\(at)[\(index)]", seen: &seen))
        }
        try checkJumps(steps, at: at)
        return steps
    }

    private func parseStep(_ json: JSON, at: String, seen: inout [String: String]) throws -> Step {
        guard let fields = json.object else { throw DefinitionError(at, "a step is an object, not \(json.typeName)") }
        guard let id = fields["id"]?.string else { throw DefinitionError("\(at).id", "a step needs an 'id' (text)") }
        guard Self.isID(id) else { throw DefinitionError("\(at).id", "'\(id.prefix(80))' is not a step id: 1 to 64 of letters, digits, _ and -") }
        guard id != "end" else { throw DefinitionError("\(at).id", "'end' is reserved (it ends a list)") }
        if let other = seen[id] { throw DefinitionError("\(at).id", "step id '\(id)' is already used at \(other)") }
        seen[id] = at
        guard let type = fields["type"]?.string else { throw DefinitionError("\(at).type", "a step needs a 'type'; known: \(Self.stepTypes.joined(separator: ", "))") }
        guard let allowed = Self.fieldsByType[type] else {
            throw DefinitionError("\(at).type", "unknown step type '\(type.prefix(40))'; known: \(Self.stepTypes.joined(separator: ", "))")
        }
        for key in fields.keys.sorted() where !Self.commonFields.contains(key) && !allowed.contains(key) {
            throw DefinitionError("\(at).\(key)", "unknown field '\(key)' for a \(type) step; it takes \((Self.commonFields.union(allowed)).sorted().joined(separator: ", "))")
        }
        func text(_ key: String) throws -> String? {
            guard let value = fields[key] else { return nil }
            guard let string = value.string, !string.isEmpty else { throw DefinitionError("\(at).\(key)", "'\(key)' is non-empty text, not \(value.typeName)") }
            return string
        }
        let kind: Step.Kind
        switch type {
        case "call":
            kind = .call(try parseCall(json, at: at, ignoring: Self.commonFields))
        case "parallel":
            guard let branches = fields["branches"]?.array, branches.count >= 1, branches.count <= 32 else {
                throw DefinitionError("\(at).branches", "'branches' is an array of 1 to 32 step lists")
            }
            kind = .parallel(try branches.enumerated().map { try parseList($0.element, at: "\(at).branches[\($0.offset)]", seen: &seen) })
        case "choice":
            guard let choices = fields["choices"]?.array, !choices.isEmpty else { throw DefinitionError("\(at).choices", "'choices' is a non-empty array of {when, next}") }
            kind = .choice(try choices.enumerated().map { index, choice in
                let where_ = "\(at).choices[\(index)]"
                guard let when = choice["when"], let next = choice["next"]?.string else { throw DefinitionError(where_, "a choice is {\"when\": condition, \"next\": step id}") }
                return (try Condition.parse(when, at: "\(where_).when"), next)
            }, otherwise: try text("default"))
        case "sleep":
            if let milliseconds = fields["for_ms"] {
                kind = .sleep(.forMilliseconds(try Self.bounded(milliseconds, "\(at).for_ms", 0...(30 * 86_400_000))))
            } else if let until = fields["until"] {
                kind = .sleep(.until(Mapping(until)))
            } else {
                throw DefinitionError(at, "a sleep step needs 'for_ms' (milliseconds) or 'until' (epoch milliseconds or ISO 8601, may be a path)")
            }
        case "wait_event":
            guard let topic = try text("topic") else { throw DefinitionError("\(at).topic", "a wait_event step needs a 'topic'") }
            var eventPath: JSONPath?
            var equals: Mapping?
            if let correlate = fields["correlate"] {
                guard let pathText = correlate["event"]?.string, let path = JSONPath(pathText), let value = correlate["equals"] else {
                    throw DefinitionError("\(at).correlate", "'correlate' is {\"event\": path in the event's payload, \"equals\": value or state path}")
                }
                eventPath = path
                equals = Mapping(value)
            }
            kind = .waitEvent(topic: topic, eventPath: eventPath, equals: equals,
                              timeoutMilliseconds: try fields["timeout_ms"].map { try Self.bounded($0, "\(at).timeout_ms", 1...(30 * 86_400_000)) })
        case "wait_signal":
            guard let name = try text("signal") else { throw DefinitionError("\(at).signal", "a wait_signal step needs a 'signal' name") }
            kind = .waitSignal(name: name, timeoutMilliseconds: try fields["timeout_ms"].map { try Self.bounded($0, "\(at).timeout_ms", 1...(30 * 86_400_000)) })
        case "publish":
            guard let topic = try text("topic") else { throw DefinitionError("\(at).topic", "a publish step needs a 'topic'") }
            if !publishable.isEmpty, !publishable.contains(where: { TopicPattern.matches($0, topic.replacingPlaceholders()) }) {
                throw DefinitionError("\(at).topic", "topic '\(topic)' is not one this plugin may publish; allowed: \(publishable.joined(separator: ", "))")
            }
            kind = .publish(topic: topic, payload: Mapping(fields["payload"] ?? .object([:])))
        case "child":
            guard let workflow = try text("workflow"), Self.isName(workflow) else { throw DefinitionError("\(at).workflow", "a child step names a 'workflow'") }
            kind = .child(workflow: workflow, input: Mapping(fields["input"] ?? .object([:])))
        default:
            kind = .fail(message: try text("message") ?? "the workflow failed at step '\(id)'")
        }
        var output: String?
        if let name = try text("output") {
            guard Self.isField(name), !Self.builtinFields.contains(name) else {
                throw DefinitionError("\(at).output", "'\(name)' cannot be a state field: letters, digits and _, not \(Self.builtinFields.joined(separator: ", "))")
            }
            output = name
        }
        var compensation: ServiceCall?
        if let compensate = fields["compensate"] {
            guard case .call = kind else { throw DefinitionError("\(at).compensate", "only call steps have compensations") }
            compensation = try parseCall(compensate, at: "\(at).compensate", compensation: true)
        }
        var optional = false
        if let flag = fields["optional"] {
            guard let value = flag.bool else { throw DefinitionError("\(at).optional", "'optional' is true or false") }
            optional = value
        }
        return Step(id: id, kind: kind, next: try text("next"), onError: try text("on_error"), output: output, optional: optional, compensation: compensation)
    }

    /// A call; a compensation without a `retry` gets three attempts.
    private func parseCall(_ json: JSON, at: String, ignoring: Set<String> = [], compensation: Bool = false) throws -> ServiceCall {
        guard let fields = json.object else { throw DefinitionError(at, "a call is an object {service, input, timeout_ms, retry}") }
        for key in fields.keys.sorted() where !ignoring.contains(key) && !["service", "plugin", "input", "timeout_ms", "retry"].contains(key) {
            throw DefinitionError("\(at).\(key)", "unknown field '\(key)'; a call has service, plugin, input, timeout_ms, retry")
        }
        guard let service = fields["service"]?.string, !service.isEmpty, service.utf8.count <= 128,
              !service.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) else {
            throw DefinitionError("\(at).service", "a call needs a 'service' name (1 to 128 printable bytes, e.g. doccompare.version)")
        }
        var call = ServiceCall(service: service, plugin: fields["plugin"]?.string, input: Mapping(fields["input"] ?? .object([:])))
        if let timeout = fields["timeout_ms"] { call.timeoutMilliseconds = try Self.bounded(timeout, "\(at).timeout_ms", 1...3_600_000) }
        if let retry = fields["retry"] { call.retry = try parseRetry(retry, at: "\(at).retry") } else if compensation { call.retry.maxAttempts = 3 }
        return call
    }

    private func parseRetry(_ json: JSON, at: String) throws -> RetryPolicy {
        guard let fields = json.object else { throw DefinitionError(at, "'retry' is an object") }
        var policy = RetryPolicy()
        for key in fields.keys.sorted() {
            let value = fields[key]!
            switch key {
            case "max_attempts": policy.maxAttempts = try Self.bounded(value, "\(at).\(key)", 1...20)
            case "backoff_ms": policy.backoffMilliseconds = try Self.bounded(value, "\(at).\(key)", 0...3_600_000)
            case "max_backoff_ms": policy.maxBackoffMilliseconds = try Self.bounded(value, "\(at).\(key)", 0...3_600_000)
            case "multiplier":
                guard let number = value.number, number >= 1, number <= 10 else { throw DefinitionError("\(at).\(key)", "'multiplier' is a number from 1 to 10") }
                policy.multiplier = number
            case "jitter":
                guard let number = value.number, number >= 0, number <= 1 else { throw DefinitionError("\(at).\(key)", "'jitter' is a number from 0 to 1") }
                policy.jitter = number
            case "retry_on":
                let kinds = [FailureKind.timeout, .failed, .garbage]
                guard let items = value.array else { throw DefinitionError("\(at).\(key)", "'retry_on' lists error kinds: timeout, failed, garbage") }
                policy.retryOn = Set(try items.enumerated().map { index, item in
                    guard let kind = item.string.flatMap(FailureKind.init(rawValue:)), kinds.contains(kind) else {
                        throw DefinitionError("\(at).\(key)[\(index)]", "unknown error kind; retryable kinds: timeout, failed, garbage")
                    }
                    return kind
                })
            default: throw DefinitionError("\(at).\(key)", "unknown field '\(key)'; retry has max_attempts, backoff_ms, multiplier, max_backoff_ms, jitter, retry_on")
            }
        }
        return policy
    }

    // MARK: Checks

    /// Jumps stay in their list and never go back: a cycle is refused with the steps that form it.
    private func checkJumps(_ steps: [Step], at: String) throws {
        var position: [String: Int] = [:]
        for (index, step) in steps.enumerated() { position[step.id] = index }
        for (index, step) in steps.enumerated() {
            var targets: [(String, String)] = []
            if let next = step.next { targets.append((next, "next")) }
            if let onError = step.onError { targets.append((onError, "on_error")) }
            if case let .choice(choices, otherwise) = step.kind {
                for (number, choice) in choices.enumerated() { targets.append((choice.1, "choices[\(number)].next")) }
                if let otherwise { targets.append((otherwise, "default")) }
            }
            for (target, field) in targets where target != "end" {
                guard position[target] != nil else {
                    throw DefinitionError("\(at)[\(index)].\(field)", "no step '\(target)' in this list; jump to one of \(steps.map(\.id).joined(separator: ", ")) or 'end'")
                }
            }
        }
        // Depth-first search over the jump graph (each step also falls through to the next one).
        var state = [Int](repeating: 0, count: steps.count)  // 0 new, 1 on the stack, 2 done
        func successors(_ index: Int) -> [(Int, String)] {
            let step = steps[index]
            var out: [(Int, String)] = []
            let fallsThrough = index + 1 < steps.count ? index + 1 : nil
            if let next = step.next { if let target = position[next] { out.append((target, "next")) } }
            else if case .choice = step.kind {} else if case .fail = step.kind {} else if let fallsThrough { out.append((fallsThrough, "next")) }
            if let onError = step.onError, let target = position[onError] { out.append((target, "on_error")) }
            if case let .choice(choices, otherwise) = step.kind {
                for (number, choice) in choices.enumerated() { if let target = position[choice.1] { out.append((target, "choices[\(number)].next")) } }
                if let otherwise, let target = position[otherwise] { out.append((target, "default")) }
                else if otherwise == nil, let fallsThrough { out.append((fallsThrough, "default")) }
            }
            return out
        }
        var stack: [Int] = []
        func visit(_ index: Int) throws {
            state[index] = 1
            stack.append(index)
            for (target, field) in successors(index) {
                if state[target] == 1 {
                    let loop = stack[stack.firstIndex(of: target)!...].map { steps[$0].id } + [steps[target].id]
                    throw DefinitionError("\(at)[\(index)].\(field)", "the steps form a cycle: \(loop.joined(separator: " -> ")); a workflow runs each step at most once")
                }
                if state[target] == 0 { try visit(target) }
            }
            stack.removeLast()
            state[index] = 2
        }
        for index in steps.indices where state[index] == 0 { try visit(index) }
    }

    /// Every path a step reads starts at a state field that exists: input, instance, error, or some step's output.
    private func checkReferences(_ definition: Definition, root: [String: JSON], seen: [String: String]) throws {
        var known = Set(Self.builtinFields)
        for step in definition.stepsByID.values { if let output = step.output { known.insert(output) } }
        let knownList = known.sorted().joined(separator: ", ")
        func check(_ path: JSONPath, _ at: String) throws {
            guard let root = path.root else { return }
            guard known.contains(root) else {
                throw DefinitionError(at, "'\(path)' reads unknown state field '\(root)'; known: \(knownList) (a step's 'output' adds one)")
            }
            if root == "input", !definition.inputFields.isEmpty, path.segments.count > 1, case let .field(field) = path.segments[1],
               !definition.inputFields.contains(field) {
                throw DefinitionError(at, "'\(path)' reads input field '\(field)', which 'input' does not list (\(definition.inputFields.joined(separator: ", ")))")
            }
        }
        func checkMapping(_ mapping: Mapping, _ at: String) throws {
            if let bad = mapping.malformed.first { throw DefinitionError(at + bad.at, "'\(bad.text)' is not a path like $.field.sub[0]") }
            for reference in mapping.references { try check(reference.path, at + reference.at) }
        }
        for (id, step) in definition.stepsByID.sorted(by: { $0.key < $1.key }) {
            let at = seen[id] ?? "$"
            switch step.kind {
            case let .call(call): try checkMapping(call.input, "\(at).input")
            case let .choice(choices, _):
                for (index, choice) in choices.enumerated() {
                    for path in choice.0.subjectPaths { try check(path, "\(at).choices[\(index)].when") }
                    for reference in choice.0.valueReferences { try check(reference.path, "\(at).choices[\(index)].when.value\(reference.at)") }
                }
            case let .sleep(.until(mapping)): try checkMapping(mapping, "\(at).until")
            case let .waitEvent(_, _, equals?, _): try checkMapping(equals, "\(at).correlate.equals")
            case let .publish(_, payload): try checkMapping(payload, "\(at).payload")
            case let .child(_, input): try checkMapping(input, "\(at).input")
            default: break
            }
            if let compensation = step.compensation {
                let where_ = root["compensations"]?[id] != nil ? "$.compensations.\(id)" : "\(at).compensate"
                try checkMapping(compensation.input, "\(where_).input")
            }
        }
        if let output = definition.output { try checkMapping(output, "$.output") }
    }

    // MARK: Helpers

    private static func attach(_ call: ServiceCall, to id: String, in steps: [Step]) -> [Step] {
        steps.map { step in
            var step = step
            if step.id == id { step.compensation = call }
            if case let .parallel(branches) = step.kind { step.kind = .parallel(branches.map { attach(call, to: id, in: $0) }) }
            return step
        }
    }

    static func bounded(_ value: JSON, _ at: String, _ range: ClosedRange<Int>) throws -> Int {
        guard let number = value.int, range.contains(number) else {
            throw DefinitionError(at, "expected an integer from \(range.lowerBound) to \(range.upperBound), got \(value.text.prefix(40))")
        }
        return number
    }

    /// Workflow names: 1 to 64 of a-z, 0-9 and `-`, starting with a letter.
    public static func isName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, ("a"..."z").contains(first), text.utf8.count <= 64 else { return false }
        return text.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
    }

    static func isID(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 64 && text.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == "-") }
    }

    static func isField(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, first.isASCII, first.properties.isAlphabetic || first == "_" else { return false }
        return isID(text)
    }
}

extension String {
    /// The text with each `{{…}}` placeholder as a `+` topic segment (for checking templated topics).
    func replacingPlaceholders() -> String {
        var out = ""
        var rest = Substring(self)
        while let open = rest.range(of: "{{"), let close = rest[open.upperBound...].range(of: "}}") {
            out += rest[..<open.lowerBound] + "+"
            rest = rest[close.upperBound...]
        }
        return out + rest
    }
}
