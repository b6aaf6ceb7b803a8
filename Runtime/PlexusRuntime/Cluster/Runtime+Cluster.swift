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
                    let local = Quarantine.load(dataDirectory: config.dataDirectory).mapValues(\.reason)
                    cluster.quarantine.onQuarantined = { [unowned self] all in clusterQuarantined(all) }
                    cluster.quarantine.onReleased = { [unowned self] name in clusterReleased(name) }
                    cluster.quarantine.exchange(local) { [unowned self] all in
                        for (name, reason) in all ?? [:] where group.quarantined[name] == nil {
                            group.quarantined[name] = "on another instance of the cluster: \(reason)"
                        }
                        done(nil)
                    }
                }
            }, stopNow: { [unowned cluster] in cluster.close() }), startTimeout: 0, stopTimeout: 0),
        ]
    }

    /// Plugins another instance quarantined while this one runs: stopped here too, and not
    /// started again by this instance until released.
    private func clusterQuarantined(_ all: [String: String]) {
        for (name, reason) in all.sorted(by: { $0.key < $1.key }) where group.quarantined[name] == nil {
            let because = "on another instance of the cluster: \(reason)"
            group.quarantined[name] = because
            logger.warning("plugin quarantined by another instance of the cluster", metadata: ["plugin": "\(name)", "reason": "\(reason)"])
            group.stopQuarantined(name, reason: because)
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
