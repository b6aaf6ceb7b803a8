import ComplianceEngine
import Foundation
import PlexusSDK

/// The bus service `compliance.check`: another plugin (the document-analysis workflow, for one)
/// checks a text without HTTP.
///
/// Request `{"tenant": "acme", "text": "…", "packs": ["gdpr"]}` (`packs` optional: all in force
/// today); reply the check result (entities, violations, packs) as `POST …/scan` answers it, and
/// `compliance.checked` (and `compliance.violation`) published as for a scan.
extension CompliancePlugin {
    /// The service's name on the bus.
    static let checkServiceName = "compliance.check"

    struct CheckServiceError: Error, CustomStringConvertible { let description: String }

    /// Registers `compliance.check`.
    func registerCheckService() throws {
        try context.services.register(Self.checkServiceName) { [unowned self] payload in
            struct Asked: Decodable { var tenant: String; var text: String; var packs: [String]? }
            let asked: Asked
            do {
                asked = try JSONDecoder().decode(Asked.self, from: Data(payload))
            } catch {
                throw CheckServiceError(description: "compliance.check takes {\"tenant\", \"text\", \"packs\"?}: \(error)")
            }
            guard asked.text.utf8.count <= maxBodyBytes else {
                throw CheckServiceError(description: "'text' is \(asked.text.utf8.count) bytes; at most \(maxBodyBytes)")
            }
            let chosen: [RulePack]
            do { chosen = try await packs(asked.packs, tenant: asked.tenant) } catch { throw CheckServiceError(description: "\(error)") }
            let text = asked.text
            let result = try await context.offLoop { PackChecker.check(text, packs: chosen) }
            await publish(result, tenant: asked.tenant)
            return Array(try JSONEncoder().encode(result))
        }
    }
}
