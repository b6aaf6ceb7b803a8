import Foundation
import Logging
import PlexusAuth

/// The admin identity's credential on this machine: an API key with the admin role, created at
/// the first start and written to `<data>/admin.key` (mode 0600), so that an operator with access
/// to the data directory (and the `plexus` CLI) can use the admin endpoints, and nobody else.
enum AdminKey {
    static let keyName = "plexus-admin"

    /// Whether `name` is an admin key's name: ``keyName``, or ``keyName(sharedBy:)``'s form
    /// (`plexus-admin-` and 16 hex digits, or 8 from versions that hashed the host name and path).
    static func isAdminKeyName(_ name: String) -> Bool {
        if name == keyName { return true }
        guard name.hasPrefix(keyName + "-") else { return false }
        let suffix = name.utf8.dropFirst(keyName.utf8.count + 1)
        return (suffix.count == 8 || suffix.count == 16) && suffix.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    /// The file holding the key.
    static func file(in dataDirectory: URL) -> URL { dataDirectory.appendingPathComponent("admin.key") }

    /// The admin key's name when the key store is shared by several instances (on PostgreSQL):
    /// `plexus-admin-<instance id>`, the random id kept in the data directory (``InstanceID``), so
    /// that one instance replacing its key never revokes another's, even when containers share
    /// their host name and data path.
    static func keyName(sharedBy dataDirectory: URL) throws -> String {
        keyName + "-" + (try InstanceID.load(in: dataDirectory))
    }

    /// Creates the key (named `keyName`) and its file unless a file with an active key exists;
    /// leaves `directory` refreshed (with the new key when one was made).
    static func ensure(in dataDirectory: URL, store: APIKeyStore, directory: APIKeyDirectory, adminRole: String,
                       keyName: String = AdminKey.keyName, logger: Logger) throws {
        let file = file(in: dataDirectory)
        let existing = try? String(contentsOf: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        _ = try blockingAwait { try await directory.refresh() }
        if let existing, let identity = try? directory.identify(existing), identity.roles.contains(adminRole) { return }
        let plaintext = try blockingAwait { () -> String in
            _ = try? await store.revoke(idOrName: keyName)
            return try await store.create(name: keyName, tenant: nil, roles: [adminRole], scopes: []).plaintext
        }
        let temporary = file.appendingPathExtension("tmp")
        FileManager.default.createFile(atPath: temporary.path, contents: Data((plaintext + "\n").utf8), attributes: [.posixPermissions: 0o600])
        guard rename(temporary.path, file.path) == 0 else {
            throw RuntimeError.config("cannot write the admin key to \(file.path): \(String(cString: strerror(errno)))")
        }
        _ = try blockingAwait { try await directory.refresh() }
        logger.notice("admin key created", metadata: ["file": "\(file.path)"])
    }
}
