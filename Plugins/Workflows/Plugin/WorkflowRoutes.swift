import Foundation
import PlexusSDK
import WorkflowEngine

/// The workflow API: definitions, starting, reading, cancelling and signalling instances.
extension WorkflowsPlugin {
    static let prefix = "/api/v1/workflows"

    func registerWorkflowRoutes() throws {
        let limit: UInt64 = 1 << 20
        try context.routes.post("\(Self.prefix)/definitions", options: RouteOptions(summary: "Stores a new version of a workflow definition"),
                                maxBodyBytes: limit) { [unowned self] request async throws in
            try await postDefinition(request)
        }
        try context.routes.get("\(Self.prefix)/definitions", options: RouteOptions(summary: "The workflows this tenant can start")) { [unowned self] request async throws in
            let list = try await store.definitions(tenant: request.verifiedTenant ?? "")
            return Self.json(.array(list.map { .object(["name": .string($0.name), "version": .number(Double($0.version)), "shipped": .bool($0.tenant.isEmpty)]) }))
        }
        try context.routes.post("\(Self.prefix)/:name/start", options: RouteOptions(summary: "Starts an instance of the newest version"),
                                maxBodyBytes: limit) { [unowned self] request async throws in
            try await startInstance(request)
        }
        try context.routes.get("\(Self.prefix)/instances", options: RouteOptions(summary: "The newest 100 instances (?workflow=name)")) { [unowned self] request async throws in
            let rows = try await store.instances(tenant: request.verifiedTenant ?? "", workflow: request.query["workflow"])
            return Self.json(.array(rows.map { row in
                let status = runner.live[row.id]?.evaluation?.status.rawValue ?? row.status
                return .object(["id": .string(row.id), "workflow": .string(row.workflow), "version": .number(Double(row.version)),
                                "status": .string(status), "created": .number(Double(row.created))])
            }))
        }
        try context.routes.get("\(Self.prefix)/instances/:id", options: RouteOptions(summary: "An instance: status, current steps, state, history")) { [unowned self] request async throws in
            let (row, history, definition) = try await loadInstance(request)
            return Self.json(describe(row, history, definition))
        }
        try context.routes.post("\(Self.prefix)/instances/:id/cancel", options: RouteOptions(summary: "Cancels an instance; its completed steps are compensated")) { [unowned self] request async throws in
            let instance = try await runningInstance(request)
            guard !instance.history.contains(where: { $0.kind == .cancelRequested }) else {
                return Self.json(.object(["id": .string(instance.id), "status": .string("compensating")]), status: 202)
            }
            // A cancel retried while the first is still queued (its 503) waits for that one.
            if !instance.cancelAsked { runner.cancel(instance, reason: "cancelled by \(request.caller?.subject ?? "a client")") }
            if let timedOut = try await durable(instance) { return timedOut.response(requestID: request.requestID) }
            return Self.json(.object(["id": .string(instance.id), "status": .string("compensating")]), status: 202)
        }
        try context.routes.post("\(Self.prefix)/instances/:id/signal/:signal", options: RouteOptions(summary: "Sends a signal (JSON body) to an instance"),
                                maxBodyBytes: 256 * 1024) { [unowned self] request async throws in
            try await postSignal(request)
        }
    }

    /// `POST …/definitions`.
    func postDefinition(_ request: Request) async throws -> Response {
        // A definition without a tenant is the shipped namespace every tenant falls back to.
        if request.verifiedTenant == nil, !(request.caller?.roles.contains("admin") ?? false) {
            throw HTTPError.forbidden("a definition without a tenant is used by every tenant: it needs the 'admin' role (or a caller of a tenant)")
        }
        let definition: Definition
        let json: JSON
        do {
            // JSON, or TOML when the media type says so; either is stored as its JSON.
            if request.headers["Content-Type"]?.lowercased().contains("toml") == true {
                guard let text = request.bodyText else { throw DefinitionError("$", "a TOML definition is UTF-8 text") }
                json = try DefinitionParser.json(toml: text)
            } else {
                guard let parsed = JSON.parse(request.body) else { throw DefinitionError("$", "the definition is not valid JSON (send TOML as application/toml)") }
                json = parsed
            }
            definition = try parser.parse(json)
        } catch let error as DefinitionError {
            throw HTTPError.unprocessable(error.description)
        }
        let tenant = request.verifiedTenant ?? ""
        let body = json.text
        let (version, created) = try await store.putDefinition(tenant: tenant, name: definition.name, body: body, now: epochMilliseconds())
        runner.latestCache = [:]
        return Self.json(.object(["name": .string(definition.name), "version": .number(Double(version)), "tenant": .string(tenant),
                                  "steps": .number(Double(definition.stepsByID.count))]), status: created ? 201 : 200)
    }

    /// `POST …/:name/start`: `{"input": {…}, "idempotency_key": "…"}` (or the `Idempotency-Key` header).
    func startInstance(_ request: Request) async throws -> Response {
        let name = request.parameters["name"] ?? ""
        guard DefinitionParser.isName(name) else { throw HTTPError.badRequest("path segment 'name': '\(name.prefix(64))' is not a workflow name") }
        var input: JSON = .object([:])
        var key = request.headers["Idempotency-Key"]
        if !request.body.isEmpty {
            guard let body = JSON.parse(request.body), let fields = body.object else {
                throw HTTPError.badRequest("the body is a JSON object {\"input\": {…}, \"idempotency_key\": \"…\"}")
            }
            for field in fields.keys where field != "input" && field != "idempotency_key" {
                throw HTTPError.badRequest("field '\(field)' is unknown; the body has 'input' and 'idempotency_key'")
            }
            input = fields["input"] ?? .object([:])
            if let given = fields["idempotency_key"] {
                guard let text = given.string else { throw HTTPError.badRequest("field 'idempotency_key' is text") }
                key = text
            }
        }
        if let key, !(1...128).contains(key.utf8.count) { throw HTTPError.badRequest("the idempotency key is 1 to 128 bytes") }
        let (row, created) = try await runner.start(tenant: request.verifiedTenant ?? "", name: name, input: input, idempotencyKey: key)
        return Self.json(.object(["id": .string(row.id), "workflow": .string(row.workflow), "version": .number(Double(row.version)),
                                  "status": .string(created ? "running" : row.status)]), status: created ? 201 : 200)
    }

    /// The instance of the `:id` parameter, if the caller's tenant owns it: live or from storage.
    func loadInstance(_ request: Request) async throws -> (InstanceRow, [HistoryEvent], Definition?) {
        let id = request.parameters["id"] ?? ""
        let tenant = request.verifiedTenant ?? ""
        if let instance = runner.live[id], instance.row.tenant == tenant {
            return (instance.row, instance.history + [], instance.definition)
        }
        guard id.utf8.count <= 200, let row = try await store.instance(id: id), row.tenant == tenant else {
            throw HTTPError.notFound("no workflow instance '\(id.prefix(80))'")
        }
        let history = try await store.history(id)
        let definition = try? await runner.definition(owner: history.first?.name ?? "", name: row.workflow, version: row.version)
        return (row, history, definition)
    }

    func runningInstance(_ request: Request) async throws -> LiveInstance {
        let (row, history, _) = try await loadInstance(request)
        // On PostgreSQL an instance whose lease may have expired stops here first (then: 409).
        guard let instance = runner.live[row.id], runner.holdsLease(instance), !instance.isOver else {
            if runner.lostLeases.contains(row.id), !(history.last?.isTerminal ?? false) { throw LeaseLost(instance: row.id) }
            throw HTTPError.conflict("instance '\(row.id)' is \(history.last?.isTerminal == true ? history.last!.kind.rawValue : row.status); it takes no more cancels or signals")
        }
        return instance
    }

    func describe(_ row: InstanceRow, _ history: [HistoryEvent], _ definition: Definition?) -> JSON {
        var fields: [String: JSON] = [
            "id": .string(row.id), "workflow": .string(row.workflow), "version": .number(Double(row.version)),
            "history": .array(history.map(\.json)),
        ]
        if let parent = row.parent { fields["parent"] = .string(parent) }
        if let definition {
            let evaluation = Interpreter.evaluate(definition, instanceID: row.id, history: history, now: epochMilliseconds())
            fields["status"] = .string(evaluation.status.rawValue)
            fields["current"] = .array(evaluation.current.map(JSON.string))
            fields["state"] = evaluation.state
            if let error = evaluation.error { fields["error"] = .string(error) }
            if let output = evaluation.output, evaluation.status == .completed { fields["output"] = output }
        } else {
            fields["status"] = .string(row.status)
        }
        return .object(fields)
    }

    /// Waits until `instance`'s queued entries are stored; returns the deadline's refusal (answered
    /// 503 with `Retry-After` by the caller), nil once stored; throws the other refusals.
    func durable(_ instance: LiveInstance) async throws -> StorageTimedOut? {
        do {
            try await runner.durable(instance)
            return nil
        } catch let timedOut as StorageTimedOut {
            return timedOut
        }
    }

    static func json(_ value: JSON, status: Int = 200) -> Response {
        Response(status: status, headers: Headers([("Content-Type", "application/json")]), body: value.bytes)
    }
}
