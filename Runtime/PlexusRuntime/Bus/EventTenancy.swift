import PlexusEventLog

/// Tenant isolation on the bus's client API: a caller that belongs to a tenant publishes only
/// into it and sees only its events; a caller without a tenant sees only tenant-less events;
/// the admin identity sees everything.
enum EventTenancy {
    /// A publish that names another tenant than the caller's.
    struct Refusal: Error, CustomStringConvertible {
        let description: String
    }

    /// The tenant `exchange`'s caller is confined to: its own, "" for a caller without one, nil
    /// for the admin (or when the runtime has no gateway).
    static func scope(of exchange: HTTPExchange, server: HTTPServer) -> String? {
        guard let gateway = server.gateway else { return nil }
        if gateway.isAdmin(exchange.caller) && exchange.caller?.tenant == nil { return nil }
        return exchange.caller?.tenant ?? ""
    }

    /// Stamps the caller's tenant on a published event, refusing an event that names another.
    static func confine(_ envelope: inout EventEnvelope, to tenant: String?) throws {
        guard let tenant else { return }
        if !envelope.tenant.isEmpty && envelope.tenant != tenant {
            throw Refusal(description: "the caller belongs to tenant '\(tenant.isEmpty ? "(none)" : tenant)' and cannot publish for tenant '\(envelope.tenant)'")
        }
        envelope.tenant = tenant
    }

    /// Whether a client confined to `tenant` may see `event`.
    static func visible(_ event: EventEnvelope, to tenant: String?) -> Bool {
        guard let tenant else { return true }
        return event.tenant == tenant
    }
}
