import Foundation
import PlexusSDK

/// The bus service `doccompare.version`: another plugin (compliance re-checks, for one) asks
/// for the text of a stored version it heard of through `document.changed`.
///
/// Request `{"tenant": "acme", "document": "lease", "version": 3}` (the version may also be a
/// decimal string); reply `{"version": 3, "format": "text", "filename": null, "text": "…"}`.
/// A malformed request or an unknown version fails the call with a message naming it.
extension DocComparePlugin {
    /// The service's name on the bus.
    static let versionServiceName = "doccompare.version"

    struct VersionServiceRequest: Decodable {
        var tenant: String
        var document: String
        var version: Int

        enum CodingKeys: String, CodingKey { case tenant, document, version }

        init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            tenant = try container.decode(String.self, forKey: .tenant)
            document = try container.decode(String.self, forKey: .document)
            if let number = try? container.decode(Int.self, forKey: .version) {
                version = number
            } else if let text = try? container.decode(String.self, forKey: .version), let number = Int(text) {
                version = number
            } else {
                throw DecodingError.dataCorruptedError(forKey: .version, in: container, debugDescription: "'version' must be an integer")
            }
        }
    }

    struct VersionServiceReply: Encodable {
        var version: Int
        var format: String
        var filename: String?
        var text: String
    }

    /// What the service refuses, said to the caller.
    struct VersionServiceError: Error, CustomStringConvertible {
        let description: String
    }

    /// Registers `doccompare.version`.
    func registerVersionService() throws {
        try context.services.register(Self.versionServiceName) { [unowned self] payload in
            let request: VersionServiceRequest
            do {
                request = try JSONDecoder().decode(VersionServiceRequest.self, from: Data(payload))
            } catch {
                throw VersionServiceError(description: "doccompare.version takes {\"tenant\", \"document\", \"version\"}: \(error)")
            }
            let tenant = try VersionStore.validateID(request.tenant, field: "tenant")
            let document = try VersionStore.validateID(request.document, field: "document")
            guard let stored = try await store.texts(tenant: tenant, document: document, versions: [request.version])[request.version] else {
                throw VersionServiceError(description: "no version \(request.version) of document '\(document)' of tenant '\(tenant)'")
            }
            let reply = VersionServiceReply(version: stored.version, format: stored.format, filename: stored.filename, text: stored.text)
            return Array(try JSONEncoder().encode(reply))
        }
    }
}
