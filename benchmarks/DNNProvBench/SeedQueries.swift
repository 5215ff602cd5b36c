/// The seeds' queries as docs/queries.md gives them. `:t` is a training task id, `:t2` another.
struct SeedQuery {
    enum Scope { case oneRun, allRuns }

    var name: String
    var scope: Scope
    var sql: String
    /// Rows the benchmark asks for (the API's default limit is 10,000).
    var limit = 10_000

    var targetMs: Double { scope == .oneRun ? 10 : 100 }
}

enum SeedQueries {
    static let all: [SeedQuery] = [
        SeedQuery(name: "Q1 loss of epoch 10 of training t", scope: .oneRun, sql: """
            select loss from ds_otrainingmodel where trainingmodel_task_id = :t and epoch = 10;
            """),
        SeedQuery(name: "Q2 layers of training t", scope: .oneRun, sql: """
            select name, type, activation, units, filters, kernel_size, strides, padding, dropout_rate
            from ds_ilayers where trainingmodel_task_id = :t order by id;
            """),
        SeedQuery(name: "Q3 time and loss per epoch of t", scope: .oneRun, sql: """
            select epoch, elapsed_time, loss from ds_otrainingmodel
            where trainingmodel_task_id = :t order by epoch;
            """),
        SeedQuery(name: "Q4 initial lr of the most accurate", scope: .allRuns, sql: """
            select i.trainingmodel_task_id, i.learning_rate
            from ds_itrainingmodel i
            where i.trainingmodel_task_id =
              (select trainingmodel_task_id from ds_otrainingmodel order by accuracy desc limit 1);
            """),
        SeedQuery(name: "Q5 hyperparameters of the 3 best", scope: .allRuns, sql: """
            select i.trainingmodel_task_id, i.optimizer_name, i.learning_rate, i.num_epochs, i.batch_size, o.best_accuracy
            from ds_itrainingmodel i
            join (select trainingmodel_task_id, max(accuracy) as best_accuracy
                  from ds_otrainingmodel group by trainingmodel_task_id) o
              on o.trainingmodel_task_id = i.trainingmodel_task_id
            order by o.best_accuracy desc limit 3;
            """),
        SeedQuery(name: "Q6 adaptation of the most accurate", scope: .allRuns, sql: """
            select a.epoch_id as epoch, a.new_lrate as learning_rate, a.adaptation_id
            from ds_oadaptation a
            join task_dependency d on d.task_id = a.adaptation_task_id
            where d.previous_task_id =
              (select trainingmodel_task_id from ds_otrainingmodel order by accuracy desc limit 1)
            order by a.epoch_id;
            """),
        SeedQuery(name: "Q7 filter when dropout was 0.4", scope: .allRuns, sql: """
            select distinct f.filter
            from ds_ofilters f
            join ds_ilayers l on l.trainingmodel_task_id = f.trainingmodel_task_id
            where l.dropout_rate = 0.4;
            """),
        SeedQuery(name: "Q8 filters of the best and worst", scope: .allRuns, sql: """
            with acc as (
              select trainingmodel_task_id as t, max(accuracy) as accuracy, max(epoch) as epochs
              from ds_otrainingmodel group by trainingmodel_task_id)
            select coalesce(f.filter, 'none') as filter, acc.accuracy, acc.epochs
            from acc left join ds_ofilters f on f.trainingmodel_task_id = acc.t
            where acc.accuracy = (select max(accuracy) from acc)
               or acc.accuracy = (select min(accuracy) from acc)
            order by acc.accuracy desc;
            """),
        SeedQuery(name: "S1 best acc/loss of chosen trainings", scope: .oneRun, sql: """
            select trainingmodel_task_id as MODEL_ID, max(accuracy) as ACCURACY, min(loss) as LOSS
              from ds_otrainingmodel where trainingmodel_task_id=:t or trainingmodel_task_id=:t2
              group by trainingmodel_task_id;
            """),
        SeedQuery(name: "S2 accuracy diff per epoch (10k rows)", scope: .allRuns, sql: """
            select trainingmodel_task_id, round(accuracy, 3) as accuracy, epoch,
              round(accuracy - lag(accuracy, 1) OVER (ORDER BY id), 3) as diff_with_previous_acc
              from ds_otrainingmodel;
            """),
        SeedQuery(name: "S2 same, every row (limit 1M)", scope: .allRuns, sql: """
            select trainingmodel_task_id, round(accuracy, 3) as accuracy, epoch,
              round(accuracy - lag(accuracy, 1) OVER (ORDER BY id), 3) as diff_with_previous_acc
              from ds_otrainingmodel;
            """, limit: 1_000_000),
        SeedQuery(name: "S3 epoch time stats per training", scope: .allRuns, sql: """
            select trainingmodel_task_id as modelid, avg(elapsed_time) as average_time,
              round(max(elapsed_time),3) as max_time, round(min(elapsed_time),3) as min_time
              from ds_otrainingmodel group by trainingmodel_task_id;
            """),
    ]
}
