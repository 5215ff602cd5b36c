#ifndef DNNPROV_CSQLITEHARDENING_H
#define DNNPROV_CSQLITEHARDENING_H

/// Forward declaration: Swift sees the connection as an OpaquePointer, the same type GRDBSQLite
/// gives it, so one handle works with both modules.
struct sqlite3;

/// Turns off what a user query must never reach on this connection: extension loading, the
/// fts3_tokenizer() pointer interface, untrusted schema functions; turns on defensive mode.
/// sqlite3_db_config is variadic, so Swift cannot call it directly.
/// Returns 0 when every setting took effect, else the first SQLite error code.
int dnnprov_harden_connection(struct sqlite3 *db);

#endif
