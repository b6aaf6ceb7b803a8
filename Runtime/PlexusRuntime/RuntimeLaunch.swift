/// How this process was launched, handed to ``Runtime/init(config:logger:launch:)`` so that
/// nothing is assigned to the runtime after construction.
public struct RuntimeLaunch {
    /// A supervised worker's settings (`plexus worker`); nil for a plain `plexus serve`.
    public var worker: WorkerSettings?
    /// `plexus serve --no-supervise` under systemd (`Type=notify`): what it is told, from `$NOTIFY_SOCKET`.
    public var systemd: SystemdNotifier?
    /// Plugin files not to load because loading them crashed a check process (file name → diagnosis).
    public var crashingPluginFiles: [String: String]

    /// A launch as described; the defaults are a plain `plexus serve` outside systemd.
    public init(worker: WorkerSettings? = nil, systemd: SystemdNotifier? = nil, crashingPluginFiles: [String: String] = [:]) {
        self.worker = worker
        self.systemd = systemd
        self.crashingPluginFiles = crashingPluginFiles
    }
}
