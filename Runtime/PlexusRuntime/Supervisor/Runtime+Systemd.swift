import Foundation

extension Runtime {
    /// Writes a serving worker's readiness (what `/ready` answers) to the shared record, where the
    /// master reads it to tell systemd `READY=1`. With `onlyChanges`, only a change since the last
    /// report is written, and nothing before the worker serves.
    func reportServingReadiness(onlyChanges: Bool = false) {
        guard worker != nil, !onlyChanges || reportedReadiness != nil else { return }
        let state = readiness
        guard !onlyChanges || state.ready != reportedReadiness else { return }
        reportedReadiness = state.ready
        Blame.reportReady(state.ready, problems: state.problems.joined(separator: "; "))
    }

    /// `plexus serve --no-supervise` under systemd: `READY=1` once `/ready` would answer 200 and
    /// `WATCHDOG=1` pings, checked every 100 ms on the loop from start-up on (so a stalled loop stops the pings).
    func startSystemdNotifications() {
        guard worker == nil, let systemd, systemdLink == nil else { return }
        let state = SystemdServiceState(notifier: systemd)
        let timer = LoopTimer(loop: loop)
        timer.start(afterMilliseconds: 0, repeatingMilliseconds: 100) { [unowned self, unowned state] in
            state.tick(servingReady: readiness.ready)
        }
        timer.unref()
        systemdLink = (state, timer)
    }

    /// `STOPPING=1` at the start of a shutdown.
    func stopSystemdNotifications() {
        guard let link = systemdLink else { return }
        link.state.stopping()
        link.timer.close()
        systemdLink = nil
    }
}
