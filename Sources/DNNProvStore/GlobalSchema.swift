import GRDB

/// The global provenance tables (PROV-Df, after DfAnalyzer), created by migrations.
/// Dataset tables (`ds_<set>`) are created at run time, one per registered set.
enum GlobalSchema {
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
        return m
    }
}
