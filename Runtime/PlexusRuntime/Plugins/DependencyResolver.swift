/// Checks plugin dependencies and orders start-up: dependencies first, ties by name.
///
/// Fails (with a one-line reason) every plugin whose required dependency is missing, has a
/// version out of range, failed itself, or sits on a dependency cycle (the cycle is named).
enum DependencyResolver {
    /// Marks unsatisfiable plugins failed and returns the others in start order.
    static func resolve(_ plugins: [PluginInstance]) -> [PluginInstance] {
        var byName: [String: PluginInstance] = [:]
        for plugin in plugins where plugin.status.state != .failed {
            if let manifest = plugin.manifest { byName[manifest.name] = plugin }
        }
        let failedNames = Set(plugins.filter { $0.status.state == .failed }.compactMap { $0.manifest?.name })

        // Missing and out-of-range dependencies.
        for plugin in byName.values.sorted(by: { $0.name < $1.name }) {
            for dependency in plugin.manifest!.dependencies where dependency.required {
                if let error = check(dependency, of: plugin, byName: byName, failedNames: failedNames) {
                    plugin.fail(error)
                }
            }
        }
        // Cycles.
        for cycle in cycles(in: byName.filter { $0.value.status.state != .failed }) {
            let text = (cycle + [cycle[0]]).joined(separator: " -> ")
            for name in cycle {
                byName[name]?.fail(PluginLoadError(.dependencyCycle, "plugin '\(name)' is on a dependency cycle: \(text); fix: remove one of these dependencies"))
            }
        }
        // Failures propagate to dependents until nothing changes.
        var changed = true
        while changed {
            changed = false
            for plugin in byName.values where plugin.status.state != .failed {
                for dependency in plugin.manifest!.dependencies where dependency.required {
                    if let other = byName[dependency.name], other.status.state == .failed {
                        plugin.fail(PluginLoadError(.dependencyFailed, "plugin '\(plugin.name)' needs '\(dependency.name)', which failed: \(other.status.reason)"))
                        changed = true
                        break
                    }
                }
            }
        }
        return order(byName.values.filter { $0.status.state != .failed }, byName: byName)
    }

    private static func check(_ dependency: PluginManifestInfo.Dependency, of plugin: PluginInstance,
                              byName: [String: PluginInstance], failedNames: Set<String>) -> PluginLoadError? {
        guard let other = byName[dependency.name] else {
            let why = failedNames.contains(dependency.name) ? "it failed to load" : "no plugin of that name is in the plugins directory"
            return PluginLoadError(.missingDependency, "plugin '\(plugin.name)' needs '\(dependency.name)' \(dependency.range), but \(why); fix: add a compatible '\(dependency.name)' plugin")
        }
        let range = VersionRange(dependency.range)!
        let version = SemanticVersion(other.manifest!.version)!
        guard range.contains(version) else {
            return PluginLoadError(.dependencyVersion, "plugin '\(plugin.name)' needs '\(dependency.name)' \(dependency.range), found \(version); fix: install a '\(dependency.name)' in that range or rebuild '\(plugin.name)' for \(version)")
        }
        return nil
    }

    /// Every elementary cycle found by a depth-first search, each listed once from its smallest name.
    static func cycles(in byName: [String: PluginInstance]) -> [[String]] {
        var found: [[String]] = []
        var seen = Set<[String]>()
        var state: [String: Int] = [:]  // 1 = on stack, 2 = done
        var stack: [String] = []
        func visit(_ name: String) {
            state[name] = 1
            stack.append(name)
            let edges = byName[name]?.manifest?.dependencies.map(\.name).filter { byName[$0] != nil }.sorted() ?? []
            for next in edges {
                if state[next] == 1, let start = stack.firstIndex(of: next) {
                    var cycle = Array(stack[start...])
                    let pivot = cycle.firstIndex(of: cycle.min()!)!
                    cycle = Array(cycle[pivot...] + cycle[..<pivot])
                    if seen.insert(cycle).inserted { found.append(cycle) }
                } else if state[next] == nil {
                    visit(next)
                }
            }
            stack.removeLast()
            state[name] = 2
        }
        for name in byName.keys.sorted() where state[name] == nil { visit(name) }
        return found
    }

    /// Kahn's algorithm over required and present optional dependencies; ties broken by name.
    private static func order(_ plugins: [PluginInstance], byName: [String: PluginInstance]) -> [PluginInstance] {
        let live = Dictionary(uniqueKeysWithValues: plugins.map { ($0.name, $0) })
        var remaining: [String: Set<String>] = [:]
        for plugin in plugins {
            remaining[plugin.name] = Set(plugin.manifest!.dependencies.map(\.name).filter { live[$0] != nil })
        }
        var ordered: [PluginInstance] = []
        while !remaining.isEmpty {
            guard let next = remaining.filter({ $0.value.isEmpty }).keys.min() else { break }
            remaining.removeValue(forKey: next)
            for key in remaining.keys { remaining[key]?.remove(next) }
            ordered.append(live[next]!)
        }
        return ordered
    }
}
