#include "CSQLiteHardening.h"
#include <sqlite3.h>

int dnnprov_harden_connection(struct sqlite3 *db) {
    int rc;
    if ((rc = sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)0)) != SQLITE_OK) return rc;
    if ((rc = sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_FTS3_TOKENIZER, 0, (int *)0)) != SQLITE_OK) return rc;
    if ((rc = sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, (int *)0)) != SQLITE_OK) return rc;
    if ((rc = sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, (int *)0)) != SQLITE_OK) return rc;
    if ((rc = sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, (int *)0)) != SQLITE_OK) return rc;
    return sqlite3_enable_load_extension(db, 0);
}
