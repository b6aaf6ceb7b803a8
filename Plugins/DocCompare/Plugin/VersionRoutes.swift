import DocDiff
import Foundation
import PlexusSDK

/// Payload of `document.changed`.
struct DocumentChanged: Encodable, Sendable {
    var tenant: String
    var document: String
    var version: Int
    var bytes: Int
}

/// The routes over stored document versions. The tenant is the first path segment after
/// `/api/v1/documents/`; the routes are declared tenant-scoped, so the runtime's gateway lets
/// through only callers whose verified tenant is that segment, and every query is scoped by it.
extension DocComparePlugin {
    /// The prefix of every version route.
    static let documentsPrefix = "/api/v1/documents"

    /// The body of a 201 from `POST …/versions`.
    static let createdSchema = JSONSchema(json: """
        {"type":"object","required":["tenant","document","version","created","bytes","format"],
         "properties":{"tenant":{"type":"string"},"document":{"type":"string"},"version":{"type":"integer","minimum":1},
                       "created":{"type":"string"},"bytes":{"type":"integer"},"format":{"type":"string"},"filename":{"type":"string"}}}
        """)

    /// Registers the four version routes.
    func registerVersionRoutes(maxBodyBytes: UInt64) throws {
        let base = "\(Self.documentsPrefix)/:tenant/:document"
        var storeOptions = RouteOptions.tenant.summary("Stores a new version of a document (JSON, multipart form or raw body)")
        storeOptions.responseStatus = 201
        storeOptions.responseSchema = Self.createdSchema
        try context.routes.post("\(base)/versions", options: storeOptions, maxBodyBytes: maxBodyBytes) { [unowned self] request async throws in
            try await storeVersion(request)
        }
        try context.routes.get("\(base)/versions", options: .tenant.summary("Lists the versions of a document")) { [unowned self] request async throws in
            try await listVersions(request)
        }
        try context.routes.get("\(base)/versions/:version", options: .tenant.summary("One stored version")) { [unowned self] request async throws in
            try await fetchVersion(request)
        }
        try context.routes.get("\(base)/compare", options: .tenant.summary("Compares two stored versions")) { [unowned self] request async throws in
            try await compareVersions(request)
        }
    }

    /// The validated tenant and document of a version route.
    private func ids(_ request: Request) throws -> (tenant: String, document: String) {
        (try VersionStore.validateID(request.parameters["tenant"], field: "tenant"),
         try VersionStore.validateID(request.parameters["document"], field: "document"))
    }

    /// A version number from the path or query: a positive integer.
    private func versionNumber(_ text: String?, field: String, in place: String) throws -> Int {
        guard let text else { throw HTTPError.badRequest("missing \(place) '\(field)': a version number (1, 2, ...)") }
        guard let number = Int(text), number >= 1 else {
            throw HTTPError.badRequest("\(place) '\(field)': '\(text.prefix(40))' is not a version number (a positive integer)")
        }
        return number
    }

    /// `POST …/versions`: decodes the upload off the loop, stores it, publishes `document.changed`.
    func storeVersion(_ request: Request) async throws -> Response {
        let (tenant, document) = try ids(request)
        let limit = maxInputBytes
        let (source, text) = try await context.offLoop { () throws -> (DocumentSource, TextDocument) in
            let source = try VersionUpload.parse(request)
            return (source, try DocumentDecoder.decode(source, maxInputBytes: limit))
        }
        let info = try await store.add(tenant: tenant, document: document, format: source.kind.rawValue, filename: source.filename,
                                       text: text.string, originalBytes: source.bytes.count)
        do {
            try await context.bus.publish("document.changed",
                                          payload: Array(try CompareService.encoder.encode(
                                              DocumentChanged(tenant: tenant, document: document, version: info.version, bytes: info.bytes))),
                                          contentType: "application/json", tenant: tenant, durable: true)
        } catch {
            context.logger.error("document.changed was not published",
                                 metadata: ["tenant": "\(tenant)", "document": "\(document)", "version": "\(info.version)", "error": "\(error)"])
        }
        struct Created: Encodable {
            var tenant: String, document: String, version: Int, created: String, bytes: Int, format: String, filename: String?
        }
        var response = try Response.json(Created(tenant: tenant, document: document, version: info.version, created: info.created,
                                                  bytes: info.bytes, format: info.format, filename: info.filename),
                                          status: 201, encoder: CompareService.encoder)
        response.headers.set("Location", "\(Self.documentsPrefix)/\(tenant)/\(document)/versions/\(info.version)")
        return response
    }

    /// `GET …/versions`: the history, oldest first; 404 when the tenant has no such document.
    func listVersions(_ request: Request) async throws -> Response {
        let (tenant, document) = try ids(request)
        let versions = try await store.history(tenant: tenant, document: document)
        guard !versions.isEmpty else { throw HTTPError.notFound("tenant '\(tenant)' has no document '\(document)'") }
        struct History: Encodable { var tenant: String, document: String, versions: [VersionInfo] }
        return try .json(History(tenant: tenant, document: document, versions: versions), encoder: CompareService.encoder)
    }

    /// `GET …/versions/:version`: the stored (extracted) text.
    func fetchVersion(_ request: Request) async throws -> Response {
        let (tenant, document) = try ids(request)
        let version = try versionNumber(request.parameters["version"], field: "version", in: "path segment")
        guard let stored = try await store.texts(tenant: tenant, document: document, versions: [version])[version] else {
            throw HTTPError.notFound("version \(version) of document '\(document)' of tenant '\(tenant)' does not exist")
        }
        var headers = Headers([("Content-Type", "text/plain; charset=utf-8")])
        headers.add("X-Document-Version", "\(version)")
        return Response(status: 200, headers: headers, body: Array(stored.text.utf8))
    }

    /// `GET …/compare?from=&to=` (+ the compare options): compares two stored versions off the loop.
    func compareVersions(_ request: Request) async throws -> Response {
        let (tenant, document) = try ids(request)
        let query = request.query
        var options = CompareOptions()
        let allowed = ["from", "to"] + CompareOptions.fieldNames
        for name in query.keys.sorted() {
            guard allowed.contains(name) else {
                throw HTTPError.badRequest("unknown query parameter '\(name)'; allowed: \(allowed.joined(separator: ", "))")
            }
            if CompareOptions.fieldNames.contains(name) { try options.set(name, text: query[name]!.trimmingCharacters(in: .whitespaces)) }
        }
        let from = try versionNumber(query["from"], field: "from", in: "query parameter")
        let to = try versionNumber(query["to"], field: "to", in: "query parameter")
        let stored = try await store.texts(tenant: tenant, document: document, versions: [from, to])
        for (field, version) in [("from", from), ("to", to)] where stored[version] == nil {
            throw HTTPError.notFound("query parameter '\(field)': version \(version) of document '\(document)' of tenant '\(tenant)' does not exist")
        }
        let old = stored[from]!, new = stored[to]!
        let pair = VersionPair(tenant: tenant, document: document, from: from, to: to)
        let chosen = options
        let outcome = try await context.offLoop {
            defer { MemoryRelease.returnFreedMemory() }
            func side(_ field: String, _ stored: StoredText) -> DocumentSource {
                DocumentSource(field: field, kind: DocumentSource.Kind(rawValue: stored.format) ?? .text, bytes: [],
                               filename: stored.filename, label: "\(document)@v\(stored.version)")
            }
            let parsed = CompareRequest(old: side("from", old), new: side("to", new), options: chosen)
            return try CompareService.render(parsed, old: TextDocument(old.text), new: TextDocument(new.text), format: chosen.format,
                                             versions: pair)
        }
        served += 1
        await publishCompared(outcome.summary, tenant: tenant)
        return outcome.response
    }
}
