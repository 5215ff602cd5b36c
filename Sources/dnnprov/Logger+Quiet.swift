import Logging

extension Logger {
    /// For commands that open the database themselves: they print only what was asked.
    static var quiet: Logger {
        var logger = Logger(label: "dnnprov")
        logger.logLevel = .error
        return logger
    }
}
