import ArgumentParser
import DNNProvModel

@main
struct DNNProvCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dnnprov",
        abstract: "Provenance of deep-learning training: capture, store as W3C PROV, query with SQL.",
        version: DNNProvVersion.current,
        subcommands: [ServeCommand.self, QueryCommand.self, DfQueryCommand.self, DataflowsCommand.self, TasksCommand.self, RunsCommand.self,
                      SpoolCommand.self, TokenCommand.self, ExportCommand.self, ImportGroupCommand.self, LineageCommand.self, MigrateCommand.self])
}
