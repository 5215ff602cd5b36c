import DNNProvStore
import ServiceLifecycle

/// Keeps the live streams' connections open (a comment every `interval`: proxies and browsers
/// close silent ones), and ends them when the server shuts down, so shutdown does not wait on them.
struct LiveKeepAlive: Service {
    let feed: ChangeFeed
    var interval: Duration = .seconds(15)

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            feed.keepAlive()
        }
        feed.finish()
    }
}
