import DNNProvModel
import Foundation

/// The Provenance Dashboard's charts (seed 000), offered on every dataflow that has the sets
/// they read (the predefined DL dataflow of the Keras callback and DNNProv): accuracy and loss
/// per epoch per optimizer, and the mean epoch time per optimizer (its Table 1).
enum BuiltinCharts {
    static func charts(for df: DataflowEntry) -> [SavedChart] {
        guard let output = df.sets["otrainingmodel"], let input = df.sets["itrainingmodel"],
              input.attributes.contains(where: { $0.name == "optimizer_name" }) else { return [] }
        let has = Set(output.attributes.map(\.name))
        guard has.contains("epoch") else { return [] }
        let join = """
            FROM ds_otrainingmodel o
            JOIN ds_itrainingmodel i ON i.trainingmodel_task_id = o.trainingmodel_task_id
            """
        var charts: [SavedChart] = []
        func add(_ id: String, _ title: String, _ sql: String, _ chart: ChartSpec) {
            charts.append(SavedChart(id: id, dataflow: df.tag, title: title, sql: sql, chart: chart, createdAt: nil, builtin: true))
        }
        for metric in ["accuracy", "loss"] where has.contains(metric) {
            let validation = has.contains("val_\(metric)")
            let columns = "avg(o.\(metric)) AS \(metric)" + (validation ? ", avg(o.val_\(metric)) AS val_\(metric)" : "")
            add("seed-000-\(metric)", "\(metric.capitalized) per epoch by optimizer" + (validation ? " (train and validation)" : ""),
                "SELECT i.optimizer_name, o.epoch, \(columns)\n\(join)\nGROUP BY i.optimizer_name, o.epoch\nORDER BY o.epoch",
                ChartSpec(type: .line, x: "epoch", y: validation ? [metric, "val_\(metric)"] : [metric], group: "optimizer_name"))
        }
        if has.contains("elapsed_time") {
            add("seed-000-epoch-time", "Mean epoch time per optimizer (s)",
                "SELECT i.optimizer_name, avg(o.elapsed_time) AS mean_epoch_time, count(*) AS epochs\n\(join)\nGROUP BY i.optimizer_name\nORDER BY mean_epoch_time",
                ChartSpec(type: .bar, x: "optimizer_name", y: ["mean_epoch_time"]))
        }
        return charts
    }
}
