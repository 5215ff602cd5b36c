import GRDB

/// The global provenance tables (PROV-Df, after DfAnalyzer), created by migrations.
/// Dataset tables (`ds_<set>`) are created at run time, one per registered set.
package enum GlobalSchema {
    /// The global tables user queries may read: the PROV-Df ones, not tokens or keys.
    package static let readableTables: Set<String> = [
        "dataflow", "dataflow_version", "data_transformation", "program", "use_program", "data_set", "data_dependency",
        "attribute", "dataflow_execution", "task", "task_dependency", "file", "performance", "idempotency_key",
        "refused_row", "run_summary", "saved_chart",
    ]

    /// Tables no user query reads: token digests, legacy keys, the migration log, the digests of
    /// the rows DfAnalyzer tasks sent (bookkeeping for re-send recognition).
    package static let internalTables: Set<String> = ["api_token", "ingest_key", "grdb_migrations", "dfa_sent", "live_seq", "migration_progress"]

    /// For a caller scoped to some dataflows: a view of a global table holding only their rows,
    /// or nil when `table` is not one of the readable global tables.
    static func scopedSelect(_ table: String, dataflowIDs: [Int64]) -> String? {
        scopedSelect(table, ids: dataflowIDs.isEmpty ? "NULL" : dataflowIDs.map(String.init).joined(separator: ", "), schema: "main")
    }

    /// `scopedSelect` with the dataflows as SQL (`ids`: a list or a subquery of their ids) and
    /// the global tables' schema (`main` in SQLite, `dnnprov` in PostgreSQL).
    package static func scopedSelect(_ table: String, ids: String, schema: String) -> String? {
        let main = schema
        let transformations = "SELECT id FROM \(main).data_transformation WHERE df_id IN (\(ids))"
        let sets = "SELECT id FROM \(main).data_set WHERE df_id IN (\(ids))"
        let tasks = "SELECT t.id FROM \(main).task t JOIN \(main).dataflow_execution e ON e.id = t.df_exec WHERE e.df_id IN (\(ids))"
        let condition: String
        switch table {
        case "dataflow": condition = "id IN (\(ids))"
        case "dataflow_version", "data_transformation", "program", "data_set", "dataflow_execution", "idempotency_key",
             "refused_row", "run_summary", "saved_chart":
            condition = "df_id IN (\(ids))"
        case "use_program": condition = "dt_id IN (\(transformations))"
        case "data_dependency", "attribute": condition = "ds_id IN (\(sets))"
        case "task": condition = "df_exec IN (SELECT id FROM \(main).dataflow_execution WHERE df_id IN (\(ids)))"
        case "task_dependency", "file", "performance": condition = "task_id IN (\(tasks))"
        default: return nil
        }
        return "SELECT * FROM \(main).\(table) WHERE \(condition)"
    }

    static func migrator() -> DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1-prov-df") { db in
            try db.execute(sql: """
                CREATE TABLE dataflow (
                    id INTEGER PRIMARY KEY,
                    tag TEXT NOT NULL UNIQUE,
                    version INTEGER NOT NULL DEFAULT 1,
                    created_at TEXT NOT NULL
                );
                -- Every version of a dataflow's specification, as registered (the merged JSON).
                CREATE TABLE dataflow_version (
                    id INTEGER PRIMARY KEY,
                    df_id INTEGER NOT NULL REFERENCES dataflow(id),
                    version INTEGER NOT NULL,
                    spec TEXT NOT NULL,
                    created_at TEXT NOT NULL,
                    UNIQUE (df_id, version)
                );
                CREATE TABLE data_transformation (
                    id INTEGER PRIMARY KEY,
                    df_id INTEGER NOT NULL REFERENCES dataflow(id),
                    tag TEXT NOT NULL,
                    UNIQUE (df_id, tag)
                );
                CREATE TABLE program (
                    id INTEGER PRIMARY KEY,
                    df_id INTEGER NOT NULL REFERENCES dataflow(id),
                    name TEXT NOT NULL,
                    path TEXT NOT NULL,
                    UNIQUE (df_id, name, path)
                );
                CREATE TABLE use_program (
                    dt_id INTEGER NOT NULL REFERENCES data_transformation(id),
                    program_id INTEGER NOT NULL REFERENCES program(id),
                    PRIMARY KEY (dt_id, program_id)
                );
                -- table_name is the physical table; queries see it as ds_<tag> (see ReadOnlyQuery).
                CREATE TABLE data_set (
                    id INTEGER PRIMARY KEY,
                    df_id INTEGER NOT NULL REFERENCES dataflow(id),
                    tag TEXT NOT NULL,
                    table_name TEXT NOT NULL UNIQUE,
                    UNIQUE (df_id, tag)
                );
                -- Producer -> consumer edges through a set, as in DfAnalyzer: a set only consumed
                -- has no previous_dt_id; a set only produced has no next_dt_id.
                CREATE TABLE data_dependency (
                    id INTEGER PRIMARY KEY,
                    previous_dt_id INTEGER REFERENCES data_transformation(id),
                    next_dt_id INTEGER REFERENCES data_transformation(id),
                    ds_id INTEGER NOT NULL REFERENCES data_set(id)
                );
                CREATE TABLE attribute (
                    id INTEGER PRIMARY KEY,
                    ds_id INTEGER NOT NULL REFERENCES data_set(id),
                    name TEXT NOT NULL,
                    type TEXT NOT NULL,
                    position INTEGER NOT NULL,
                    UNIQUE (ds_id, name)
                );
                -- One run of an instrumented script; user, host and script are its PROV agents.
                CREATE TABLE dataflow_execution (
                    id INTEGER PRIMARY KEY,
                    df_id INTEGER NOT NULL REFERENCES dataflow(id),
                    tag TEXT NOT NULL,
                    inferred INTEGER NOT NULL DEFAULT 0,
                    start_time TEXT,
                    end_time TEXT,
                    user TEXT,
                    host TEXT,
                    script TEXT,
                    email TEXT,
                    hardware TEXT,
                    UNIQUE (df_id, tag)
                );
                CREATE TABLE task (
                    id INTEGER PRIMARY KEY,
                    identifier TEXT NOT NULL,
                    dt_id INTEGER NOT NULL REFERENCES data_transformation(id),
                    df_exec INTEGER NOT NULL REFERENCES dataflow_execution(id),
                    status TEXT NOT NULL,
                    start_time TEXT,
                    end_time TEXT,
                    workspace TEXT,
                    computing_resource TEXT,
                    output_msg TEXT,
                    error_msg TEXT,
                    UNIQUE (df_exec, dt_id, identifier)
                );
                CREATE TABLE task_dependency (
                    task_id INTEGER NOT NULL REFERENCES task(id),
                    previous_task_id INTEGER NOT NULL REFERENCES task(id),
                    PRIMARY KEY (task_id, previous_task_id)
                );
                CREATE TABLE file (
                    id INTEGER PRIMARY KEY,
                    task_id INTEGER NOT NULL REFERENCES task(id),
                    name TEXT NOT NULL,
                    path TEXT NOT NULL,
                    UNIQUE (task_id, name, path)
                );
                CREATE TABLE performance (
                    id INTEGER PRIMARY KEY,
                    task_id INTEGER NOT NULL REFERENCES task(id),
                    start_time TEXT,
                    end_time TEXT,
                    UNIQUE (task_id, start_time, end_time)
                );
                -- Idempotency keys of the batch API: an event whose key is here was stored.
                CREATE TABLE ingest_key (key TEXT PRIMARY KEY) WITHOUT ROWID;
                """)
        }
        // Idempotency keys scoped per dataflow, with the fingerprint of the event they stored
        // (a reused key with other content is refused); API tokens, stored as SHA-256 digests.
        m.registerMigration("v2-keys-and-tokens") { db in
            try db.execute(sql: """
                CREATE TABLE idempotency_key (
                    df_id INTEGER NOT NULL REFERENCES dataflow(id),
                    key TEXT NOT NULL,
                    fingerprint TEXT NOT NULL,
                    PRIMARY KEY (df_id, key)
                ) WITHOUT ROWID;
                CREATE TABLE api_token (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL,
                    digest TEXT NOT NULL UNIQUE,
                    role TEXT NOT NULL,
                    dataflows TEXT,
                    created_at TEXT NOT NULL,
                    revoked_at TEXT
                );
                """)
        }
        // The DfAnalyzer endpoints (old clients never read answers): rows refused with their
        // reason, for the user to see and fix; and per task and set, what the task has sent so far,
        // to tell a client's re-sent rows from new ones (variant A re-sends the whole list).
        m.registerMigration("v3-dfanalyzer-refused-and-sent") { db in
            try db.execute(sql: """
                CREATE TABLE refused_row (
                    id INTEGER PRIMARY KEY,
                    df_id INTEGER NOT NULL REFERENCES dataflow(id),
                    set_tag TEXT NOT NULL,
                    task_id INTEGER REFERENCES task(id),
                    row_values TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    received_at TEXT NOT NULL
                );
                CREATE INDEX refused_row_df ON refused_row(df_id, task_id);
                CREATE TABLE dfa_sent (
                    task_id INTEGER NOT NULL REFERENCES task(id),
                    set_tag TEXT NOT NULL,
                    sent INTEGER NOT NULL,
                    prefix_digest TEXT NOT NULL,
                    last_digest TEXT,
                    PRIMARY KEY (task_id, set_tag)
                ) WITHOUT ROWID;
                """)
        }
        // Per-run summaries kept at ingestion (the runs table reads one row per run, never the
        // epoch rows), built here for what was stored before; charts saved from the SQL console.
        m.registerMigration("v4-run-summaries-and-charts") { db in
            try db.execute(sql: """
                CREATE TABLE run_summary (
                    exec_id INTEGER PRIMARY KEY REFERENCES dataflow_execution(id),
                    df_id INTEGER NOT NULL REFERENCES dataflow(id),
                    status TEXT NOT NULL,
                    tasks INTEGER NOT NULL,
                    start_time TEXT,
                    end_time TEXT,
                    updated_at TEXT NOT NULL,
                    seq INTEGER NOT NULL,
                    summary TEXT NOT NULL
                );
                CREATE INDEX run_summary_df ON run_summary(df_id, exec_id);
                -- The live stream's last event number, so numbers never repeat across restarts.
                CREATE TABLE live_seq (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL);
                CREATE TABLE saved_chart (
                    id INTEGER PRIMARY KEY,
                    df_id INTEGER NOT NULL REFERENCES dataflow(id),
                    title TEXT NOT NULL,
                    sql TEXT NOT NULL,
                    chart TEXT NOT NULL,
                    created_at TEXT NOT NULL
                );
                """)
            try RunSummaries.rebuildAll(GRDBConnection(db))
        }
        return m
    }
}
