/*
 * A stand-in for a library that leaks internals (exports.sh's own test): an internal helper, an
 * LMDB and a libpq name exported with default visibility. exports.sh must refuse it.
 */
int scitt__leaked_helper(int x);
int mdb_env_open(int x);
int PQconnectdb(int x);
int scitt_fine(int x);

int scitt__leaked_helper(int x)
{
    return x + 1;
}
int mdb_env_open(int x)
{
    return x + 2;
}
int PQconnectdb(int x)
{
    return x + 3;
}
int scitt_fine(int x)
{
    return x + 4;
}
