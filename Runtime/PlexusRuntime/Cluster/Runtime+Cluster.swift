import Foundation

extension Runtime {
    /// The `cluster (Redis)` service, first to start and last to stop, when `[cluster] redis` is set.
    var clusterServices: [ServiceGroup.Entry] {
        guard let cluster else { return [] }
        return [
            .init(service: LoopServiceClosures("cluster (Redis)", start: { [unowned self, unowned cluster] done in
                // Live clients hear (an SSE comment) when Redis goes away and when it is back: events
                // published on other instances meanwhile do not reach them.
                cluster.onAvailability = { [unowned self] available, reason in
                    events.notifyLiveClients(available ? "cluster: Redis connected; events from every instance flow again"
                                                       : "cluster: Redis unreachable (\(reason)); publishes are refused (503) until it is back")
                }
                // Services: offered ones announced, calls balanced over every instance offering them.
                let registry = group.services.serviceRegistry
                registry.remote = cluster.services
                cluster.services.registry = registry
                cluster.services.metrics = metrics
                cluster.start(router: events) { [unowned self, unowned cluster] error in
                    if let error { return done(error) }
                    cluster.services.start()
                    // Quarantine: ours shared, the other instances' taken on, before any plugin loads;
                    // later changes heard at once (a plugin quarantined elsewhere is stopped here too).
                    let local = Quarantine.load(dataDirectory: config.dataDirectory).compactMapValues { entry -> (reason: String, since: Date)? in
                        (entry.reason, ISO8601DateFormatter().date(from: entry.since) ?? Date())
                    }
                    cluster.quarantine.onSnapshot = { [unowned self] entries, released in clusterSnapshot(entries, released: released) }
                    cluster.quarantine.onReleased = { [unowned self] name in clusterReleased(name) }
                    cluster.quarantine.exchange(local) { [unowned self] shared in
                        guard let shared else {
                            logger.warning("cluster: the shared quarantine could not be read at start; this instance goes on with its own until the next announcement or reconnect")
                            return done(nil)
                        }
                        // Local entries the cluster released after they were made: stale, forgotten here.
                        for name in shared.stale { clusterReleased(name) }
                        for (name, reason) in shared.entries where group.quarantined[name] == nil {
                            group.quarantined[name] = Self.clusterReason + reason
                        }
                        done(nil)
                    }
                }
            }, stopNow: { [unowned cluster] in cluster.close() }), startTimeout: 0, stopTimeout: 0),
        ]
    }

    /// What `group.quarantined` says of a plugin taken from the cluster's quarantine.
    static let clusterReason = "on another instance of the cluster: "

    /// A snapshot of the cluster's quarantine newer than any applied: plugins quarantined elsewhere
    /// are stopped here too; plugins taken from the cluster and no longer in it are lifted; local
    /// entries a release covers (made at or before it) are released.
    private func clusterSnapshot(_ entries: [String: String], released: [String: Int64]) {
        for (name, reason) in entries.sorted(by: { $0.key < $1.key }) where group.quarantined[name] == nil {
            let because = Self.clusterReason + reason
            group.quarantined[name] = because
            logger.warning("plugin quarantined by another instance of the cluster", metadata: ["plugin": "\(name)", "reason": "\(reason)"])
            group.stopQuarantined(name, reason: because)
        }
        let local = Quarantine.load(dataDirectory: config.dataDirectory)
        for (name, reason) in group.quarantined where entries[name] == nil {
            if reason.hasPrefix(Self.clusterReason) && local[name] == nil {
                clusterReleased(name)
            } else if let at = released[name], let entry = local[name],
                      let since = ISO8601DateFormatter().date(from: entry.since), Int64(since.timeIntervalSince1970 * 1000) <= at {
                clusterReleased(name)
            }
        }
        for (name, entry) in local where group.quarantined[name] == nil && entries[name] == nil {
            // In the file only (not loaded by this generation): forgotten when a release covers it.
            if let at = released[name], let since = ISO8601DateFormatter().date(from: entry.since), Int64(since.timeIntervalSince1970 * 1000) <= at {
                clusterReleased(name)
            }
        }
    }

    /// A release anywhere in the cluster: forgotten here too (the local file included, so no
    /// restart quarantines it again); it loads again from the next reload.
    private func clusterReleased(_ name: String) {
        group.quarantined.removeValue(forKey: name)
        do {
            if try Quarantine.release(name, dataDirectory: config.dataDirectory) {
                logger.notice("plugin released from quarantine across the cluster", metadata: ["plugin": "\(name)"])
            }
        } catch {
            logger.error("plugin released across the cluster, but the local quarantine file could not be written", metadata: ["plugin": "\(name)", "error": "\(error)"])
        }
    }

    /// The `shared API keys and rate limits (Redis)` service, right after the gateway's stores: the
    /// installation's admin key from Redis (created by the first instance), API keys kept in step,
    /// and `[[rate_limits]]` decided in Redis.
    var clusterGatewayServices: [ServiceGroup.Entry] {
        guard let cluster else { return [] }
        return [
            .init(service: LoopServiceClosures("shared API keys and rate limits (Redis)", start: { [unowned self, unowned cluster] done in
                guard let gateway else { return done(nil) }
                // Audit: every record also in the shared stream, readable from any instance.
                let audit = ClusterAudit(redis: cluster.commands, keys: cluster.keys, instance: cluster.instance)
                gateway.trail.mirror = { [unowned audit] record in audit.append(record) }
                audit.install(on: server.pipeline.registry)
                cluster.audit = audit
                server.pipeline.sharedRateLimit = ClusterRateLimit(policies: config.gateway.rateLimits, redis: cluster.commands,
                                                                   keys: cluster.keys, logger: logger)
                let share = ClusterKeyShare(redis: cluster.commands, keys: cluster.keys, store: gateway.keyStore, directory: gateway.keys,
                                            loop: loop, logger: logger)
                cluster.keyShare = share
                cluster.onKeysChanged = { [unowned share] in share.remoteChanged() }
                share.ensureAdminKey(dataDirectory: config.dataDirectory, adminRole: config.gateway.auth.adminRole) { error in
                    if error == nil { share.start() }
                    done(error)
                }
            }, stopNow: { [unowned cluster] in cluster.keyShare?.stop() }), startTimeout: 0, stopTimeout: 0),
        ]
    }
}
