/// One step of the request pipeline that judges a request on its head, before any of its body
/// is read: it may add what it found out to the context (caller, tenant, headers for the
/// answer) and let the request go on, or refuse it.
///
/// The stages run in the order ``RequestPipeline`` names them; each is built once at start-up
/// and keeps its own state (caches, buckets, per-route tables keyed by route id).
protocol RequestStage: AnyObject {
    /// Looks at `request` (`now`: unix seconds); nil lets it go on to the next stage, a refusal
    /// is the answer.
    func screen(_ request: RequestContext, now: Double) -> GatewayRefusal?
}
