import Foundation
import PlexusStorage

/// One API key as the instances of a cluster share it: the columns of `auth_api_keys` (the
/// key's SHA-256, never its plaintext), stored as JSON in the hash `<prefix>apikeys` by id.
///
/// Merging is a union by id in which a revocation wins: a key revoked anywhere is revoked
/// everywhere, the earliest revocation time kept, and nothing is ever un-revoked.
struct ClusterKeyRow: Equatable {
    var id: String
    var name: String
    var tenant: String?
    var roles: String
    var scopes: String
    var sha256: String
    var hint: String
    var createdAt: Double
    var revokedAt: Double?

    /// The columns ``init(row:)`` reads, in order.
    static let columns = "id, name, tenant, roles, scopes, key_sha256, hint, created_at, revoked_at"

    init?(row: StorageRow) {
        guard let id = row[0].textValue, let name = row[1].textValue, let sha = row[5].textValue else { return nil }
        self.id = id
        self.name = name
        tenant = row[2].textValue
        roles = row[3].textValue ?? ""
        scopes = row[4].textValue ?? ""
        sha256 = sha
        hint = row[6].textValue ?? ""
        createdAt = row[7].realValue ?? 0
        revokedAt = row[8].realValue
    }

    init?(json: [UInt8]) {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(json))) as? [String: Any],
              let id = object["id"] as? String, let name = object["name"] as? String, let sha = object["key_sha256"] as? String,
              id.utf8.count <= 64, sha.utf8.count == 64 else { return nil }
        self.id = id
        self.name = name
        tenant = object["tenant"] as? String
        roles = object["roles"] as? String ?? ""
        scopes = object["scopes"] as? String ?? ""
        sha256 = sha
        hint = object["hint"] as? String ?? ""
        createdAt = (object["created_at"] as? NSNumber)?.doubleValue ?? 0
        revokedAt = (object["revoked_at"] as? NSNumber)?.doubleValue
    }

    var json: [UInt8] {
        var object: [String: Any] = ["id": id, "name": name, "roles": roles, "scopes": scopes, "key_sha256": sha256, "hint": hint, "created_at": createdAt]
        if let tenant { object["tenant"] = tenant }
        if let revokedAt { object["revoked_at"] = revokedAt }
        return Array((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data())
    }

    /// This row merged with another copy of the same key: revoked if either is, at the earlier time.
    func merged(with other: ClusterKeyRow) -> ClusterKeyRow {
        var result = self
        switch (revokedAt, other.revokedAt) {
        case let (mine?, theirs?): result.revokedAt = min(mine, theirs)
        case (nil, let theirs?): result.revokedAt = theirs
        default: break
        }
        return result
    }

    /// The union of two sets of rows by id (see ``merged(with:)``).
    static func merge(_ local: [String: ClusterKeyRow], _ remote: [String: ClusterKeyRow]) -> [String: ClusterKeyRow] {
        var all = local
        for (id, row) in remote { all[id] = all[id].map { $0.merged(with: row) } ?? row }
        return all
    }
}
