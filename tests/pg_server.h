/*
 * A real PostgreSQL server for a test: initdb in a temporary folder, started on a free loopback
 * port with its socket in that folder, stopped and removed afterwards. Run as root (as CI does),
 * the server programs run as the unprivileged user `nobody`: PostgreSQL refuses to run as root.
 * The Debian `postgresql` package provides them (scripts/install-deps.sh).
 */
#ifndef SCITT_TESTS_PG_SERVER_H
#define SCITT_TESTS_PG_SERVER_H

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SCITT_PG_BIN
#define SCITT_PG_BIN "/usr/lib/postgresql/15/bin"
#endif

typedef struct pg_server {
    char dir[256];  /* the temporary folder (data/, the socket, the log) */
    char data[300]; /* the cluster */
    char url[200];  /* postgresql://scitt@127.0.0.1:<port>/postgres */
    int port;
    bool running;
    const char *parent; /* where the temporary folder goes (NULL: /tmp); `nobody` must reach it */
} pg_server;

static inline int pg__free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t n = sizeof(a);
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &n) == 0) {
        port = ntohs(a.sin_port);
    }
    if (fd >= 0) {
        close(fd);
    }
    return port;
}

/* Runs argv (NULL-terminated) in @p cwd, as `nobody` when root, output to @p log (NULL: kept);
 * true on exit 0. */
static inline bool pg__run(char *const argv[], const char *cwd, const char *log)
{
    pid_t pid = fork();
    if (pid < 0) {
        return false;
    }
    if (pid == 0) {
        if (geteuid() == 0) {
            struct passwd *pw = getpwnam("nobody");
            if (!pw || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
                _exit(126);
            }
        }
        if (chdir(cwd) != 0) {
            _exit(126);
        }
        FILE *f = log ? freopen(log, "a", stdout) : NULL;
        if (f) {
            dup2(fileno(f), 2);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    int st;
    if (waitpid(pid, &st, 0) != pid) {
        return false;
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "%s: exit status %d\n", argv[0], WIFEXITED(st) ? WEXITSTATUS(st) : -1);
        return false;
    }
    return true;
}

/* Copies a log to stderr (the folder holding it is removed when a start fails). */
static inline void pg__dump(const char *what, const char *log)
{
    fprintf(stderr, "%s failed; %s:\n", what, log);
    FILE *f = fopen(log, "r");
    char line[512];
    while (f && fgets(line, sizeof(line), f)) {
        fputs(line, stderr);
    }
    if (f) {
        fclose(f);
    }
}

static inline bool pg__chown_nobody(const char *path)
{
    if (geteuid() != 0) {
        return true;
    }
    struct passwd *pw = getpwnam("nobody");
    return pw && chown(path, pw->pw_uid, pw->pw_gid) == 0;
}

/* The server's temporary folder (owned by `nobody` when root) and its data path. */
static inline bool pg__make_dir(pg_server *p)
{
    /* absolute: the server programs run in the folder */
    char *parent = p->parent ? realpath(p->parent, NULL) : NULL;
    int n = snprintf(p->dir, sizeof(p->dir), "%s/scitt-pg-XXXXXX", parent ? parent : "/tmp");
    free(parent);
    if (n < 0 || (size_t)n >= sizeof(p->dir)) {
        p->dir[0] = 0;
        return false;
    }
    if (!mkdtemp(p->dir) || chmod(p->dir, 0700) != 0 || !pg__chown_nobody(p->dir)) {
        return false;
    }
    snprintf(p->data, sizeof(p->data), "%s/data", p->dir);
    return true;
}

/* Creates the cluster (once) and starts it (again after pg_server_stop, on the same port);
 * false (with the log on stderr) when it cannot. */
static inline bool pg_server_start(pg_server *p)
{
    char log[320], opts[400], bin[200], bin2[200];
    if (!p->dir[0]) {
        if (!pg__make_dir(p)) {
            return false;
        }
        snprintf(log, sizeof(log), "%s/initdb.log", p->dir);
        snprintf(bin, sizeof(bin), "%s/initdb", SCITT_PG_BIN);
        char *argv[] = {bin, "-D", p->data, "-U", "scitt", "-A", "trust", "-E", "UTF8", NULL};
        if (!pg__run(argv, p->dir, log)) {
            pg__dump("initdb", log);
            return false;
        }
    }
    if (!p->port) {
        p->port = pg__free_port(); /* a restart keeps its port, so URLs stay valid */
    }
    if (p->port <= 0) {
        return false;
    }
    snprintf(log, sizeof(log), "%s/server.log", p->dir);
    snprintf(opts, sizeof(opts), "-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=200",
             p->port, p->dir);
    snprintf(bin2, sizeof(bin2), "%s/pg_ctl", SCITT_PG_BIN);
    char *argv[] = {bin2, "-D", p->data, "-l", log, "-o", opts, "-w", "-t", "60", "start", NULL};
    if (!pg__run(argv, p->dir, NULL)) {
        pg__dump("pg_ctl start", log);
        return false;
    }
    snprintf(p->url, sizeof(p->url), "postgresql://scitt@127.0.0.1:%d/postgres", p->port);
    p->running = true;
    return true;
}

/* Stops the server: "fast" (clean) or "immediate" (as a crash of the database host would). */
static inline void pg_server_stop(pg_server *p, const char *mode)
{
    if (!p->running) {
        return;
    }
    char bin[200];
    snprintf(bin, sizeof(bin), "%s/pg_ctl", SCITT_PG_BIN);
    char *argv[] = {bin, "-D", p->data, "-m", (char *)mode, "-w", "stop", NULL};
    (void)pg__run(argv, p->dir, NULL);
    p->running = false;
}

/*
 * A streaming standby of @p primary (running): `pg_basebackup -R` into a new folder (the
 * recovery settings and standby.signal written), started on its own port (@p s->port when set,
 * so a URL naming it stays valid). false (with the log on stderr) when it cannot.
 */
static inline bool pg_server_standby(pg_server *s, const pg_server *primary)
{
    char log[320], bin[200], port[16];
    if (!pg__make_dir(s)) {
        return false;
    }
    snprintf(log, sizeof(log), "%s/basebackup.log", s->dir);
    snprintf(bin, sizeof(bin), "%s/pg_basebackup", SCITT_PG_BIN);
    snprintf(port, sizeof(port), "%d", primary->port);
    char *argv[] = {bin,     "-h", "127.0.0.1", "-p",     port, "-U",   "scitt", "-D",
                    s->data, "-R", "-X",        "stream", "-c", "fast", NULL};
    if (!pg__run(argv, s->dir, log)) {
        pg__dump("pg_basebackup", log);
        return false;
    }
    return pg_server_start(s);
}

/* Promotes a standby to a primary (pg_ctl promote, waiting until it accepts writes). */
static inline bool pg_server_promote(pg_server *p)
{
    char bin[200];
    snprintf(bin, sizeof(bin), "%s/pg_ctl", SCITT_PG_BIN);
    char *argv[] = {bin, "-D", p->data, "-w", "-t", "60", "promote", NULL};
    return pg__run(argv, p->dir, NULL);
}

/* The parent pid of @p pid from /proc (0: gone). */
static inline long pg__ppid(long pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
    if (f) {
        fclose(f);
    }
    buf[n] = 0;
    const char *end = strrchr(buf, ')'); /* the command name may hold anything */
    char state = 0;
    long ppid = 0;
    if (!end || sscanf(end + 1, " %c %ld", &state, &ppid) != 2 || state == 'Z') {
        return 0;
    }
    return ppid;
}

/*
 * SIGKILLs the server and every process of it at once, as the loss of its host would: the
 * postmaster stopped first (it forks no more), its children found in /proc, then all killed.
 * Waits until the postmaster is gone.
 */
static inline bool pg_server_kill(pg_server *p)
{
    char path[320];
    snprintf(path, sizeof(path), "%s/postmaster.pid", p->data);
    FILE *f = fopen(path, "r");
    long pid = 0;
    if (!f || fscanf(f, "%ld", &pid) != 1) {
        pid = 0;
    }
    if (f) {
        fclose(f);
    }
    if (pid <= 1 || kill((pid_t)pid, SIGSTOP) != 0) {
        return false;
    }
    long kids[256];
    size_t nkids = 0;
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL && nkids < 256) {
        long child = atol(e->d_name);
        if (child > 0 && pg__ppid(child) == pid) {
            kids[nkids++] = child;
        }
    }
    if (d) {
        closedir(d);
    }
    kill((pid_t)pid, SIGKILL);
    for (size_t i = 0; i < nkids; i++) {
        kill((pid_t)kids[i], SIGKILL);
    }
    for (int i = 0; i < 1000 && pg__ppid(pid) != 0; i++) {
        usleep(10000);
    }
    p->running = false;
    return pg__ppid(pid) == 0;
}

/* Stops the server and removes its folder. */
static inline void pg_server_destroy(pg_server *p)
{
    pg_server_stop(p, "immediate");
    const char *base = strrchr(p->dir, '/');
    if (p->dir[0] && base && strncmp(base, "/scitt-pg-", 10) == 0 && !strchr(p->dir, '\'')) {
        char cmd[320];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", p->dir);
        if (system(cmd) != 0) {
            fprintf(stderr, "could not remove %s\n", p->dir);
        }
    }
    p->dir[0] = 0;
}

#endif
