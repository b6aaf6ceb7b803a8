import DocDiff
import Foundation
import PlexusSDK

/// The bus service `doccompare.compare`: another plugin (the document-analysis workflow, for
/// one) compares two stored versions without HTTP.
///
/// Request `{"tenant": "acme", "document": "lease", "from": 1, "to": 2}`; reply the comparison's
/// summary (the payload of `document.compared`, which it also publishes). A malformed request or
/// an unknown version fails the call with a message naming it.
extension DocComparePlugin {
    /// The service's name on the bus.
    static let compareServiceName = "doccompare.compare"

    /// Registers `doccompare.compare`.
    func registerCompareService() throws {
        try context.services.register(Self.compareServiceName) { [unowned self] payload in
            struct Asked: Decodable { var tenant: String; var document: String; var from: Int; var to: Int }
            let asked: Asked
            do {
                asked = try JSONDecoder().decode(Asked.self, from: Data(payload))
            } catch {
                throw VersionServiceError(description: "doccompare.compare takes {\"tenant\", \"document\", \"from\", \"to\"} (versions as integers): \(error)")
            }
            let tenant = try VersionStore.validateID(asked.tenant, field: "tenant")
            let document = try VersionStore.validateID(asked.document, field: "document")
            let stored = try await store.texts(tenant: tenant, document: document, versions: [asked.from, asked.to])
            for (field, version) in [("from", asked.from), ("to", asked.to)] where stored[version] == nil {
                throw VersionServiceError(description: "'\(field)': no version \(version) of document '\(document)' of tenant '\(tenant)'")
            }
            let old = stored[asked.from]!, new = stored[asked.to]!
            let pair = VersionPair(tenant: tenant, document: document, from: asked.from, to: asked.to)
            let outcome = try await context.offLoop {
                defer { MemoryRelease.returnFreedMemory() }
                func side(_ field: String, _ stored: StoredText) -> DocumentSource {
                    DocumentSource(field: field, kind: DocumentSource.Kind(rawValue: stored.format) ?? .text, bytes: [],
                                   filename: stored.filename, label: "\(document)@v\(stored.version)")
                }
                let options = CompareOptions()
                let parsed = CompareRequest(old: side("from", old), new: side("to", new), options: options)
                return try CompareService.render(parsed, old: TextDocument(old.text), new: TextDocument(new.text), format: options.format, versions: pair)
            }
            served += 1
            await publishCompared(outcome.summary, tenant: tenant)
            return Array(try CompareService.encoder.encode(outcome.summary))
        }
    }
}
