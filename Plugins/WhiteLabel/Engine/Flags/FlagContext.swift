/// What a flag is evaluated for: the user, the session, the tenant and its plan, free properties.
public struct FlagContext: Sendable, Equatable, Codable {
    public var userId: String?
    public var sessionId: String?
    public var remoteAddress: String?
    public var plan: String?
    public var tenant: String?
    public var environment: String?
    public var appVersion: String? { didSet { parsedAppVersion = ParsedVersion(appVersion) } }
    /// `appVersion` read as a version when it was set, not on every evaluation.
    private(set) var parsedAppVersion: ParsedVersion
    /// Unix seconds; nil: now.
    public var currentTime: Double?
    public var properties: [String: String]

    public init(userId: String? = nil, sessionId: String? = nil, remoteAddress: String? = nil, plan: String? = nil, tenant: String? = nil,
                environment: String? = nil, appVersion: String? = nil, currentTime: Double? = nil, properties: [String: String] = [:]) {
        (self.userId, self.sessionId, self.remoteAddress, self.plan, self.tenant) = (userId, sessionId, remoteAddress, plan, tenant)
        (self.environment, self.appVersion, self.currentTime, self.properties) = (environment, appVersion, currentTime, properties)
        parsedAppVersion = ParsedVersion(appVersion)
    }

    enum CodingKeys: String, CodingKey {
        case userId, sessionId, remoteAddress, plan, tenant, environment, appVersion, currentTime, properties
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        userId = try container.decodeIfPresent(String.self, forKey: .userId)
        sessionId = try container.decodeIfPresent(String.self, forKey: .sessionId)
        remoteAddress = try container.decodeIfPresent(String.self, forKey: .remoteAddress)
        plan = try container.decodeIfPresent(String.self, forKey: .plan)
        tenant = try container.decodeIfPresent(String.self, forKey: .tenant)
        environment = try container.decodeIfPresent(String.self, forKey: .environment)
        appVersion = try container.decodeIfPresent(String.self, forKey: .appVersion)
        parsedAppVersion = ParsedVersion(appVersion)
        currentTime = try container.decodeIfPresent(Double.self, forKey: .currentTime)
        properties = try container.decodeIfPresent([String: String].self, forKey: .properties) ?? [:]
    }

    /// A field, as a compiled constraint names it.
    public enum Field: Sendable, Equatable {
        case userId, sessionId, remoteAddress, plan, tenant, environment, appVersion, currentTime
        case property(String)

        /// The field a constraint or stickiness names, or nil when the name is unknown.
        public init?(_ name: String) {
            switch name {
            case "userId": self = .userId
            case "sessionId": self = .sessionId
            case "remoteAddress": self = .remoteAddress
            case "plan": self = .plan
            case "tenant": self = .tenant
            case "environment": self = .environment
            case "appVersion": self = .appVersion
            case "currentTime": self = .currentTime
            default:
                guard name.hasPrefix("properties."), name.utf8.count > 11, name.utf8.count <= 100 else { return nil }
                self = .property(String(name.dropFirst(11)))
            }
        }
    }

    /// The text of `field` (currentTime: nil; it is compared as a date).
    public func value(_ field: Field) -> String? {
        switch field {
        case .userId: userId
        case .sessionId: sessionId
        case .remoteAddress: remoteAddress
        case .plan: plan
        case .tenant: tenant
        case .environment: environment
        case .appVersion: appVersion
        case .currentTime: nil
        case .property(let name): property(name)
        }
    }

    /// The property `name`. A context carries a few properties: comparing their keys one by one
    /// costs less than hashing `name`, so small tables are scanned and large ones hashed.
    @inline(__always)
    func property(_ name: String) -> String? {
        guard properties.count <= 8 else { return properties[name] }
        // By index: the table is read in place (a `for` loop would copy it into an iterator).
        var index = properties.startIndex
        while index != properties.endIndex {
            if properties.keys[index] == name { return properties.values[index] }
            properties.formIndex(after: &index)
        }
        return nil
    }
}

/// The tenant and plan an evaluation is confined to, replacing whatever the context says.
public struct Scope: Sendable {
    public let tenant: String
    public let plan: String?
    public init(tenant: String, plan: String?) { (self.tenant, self.plan) = (tenant, plan) }
}
