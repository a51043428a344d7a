#define _GNU_SOURCE
#include "pgserver.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct pgserver_s {
        char dir[256];
        char bindir[512];
        char conninfo[512];
        int port;
        int as_postgres; /* run the server's programs as the postgres user (we are root) */
        uid_t uid;
        gid_t gid;
};

/* Runs argv (argv[0] looked up on PATH) with output appended to DIR/cmd.log,
 * as the postgres user when we are root.  Returns the exit status, or -1. */
static int run(const pgserver_t *pg, const char *const *argv) {
        const char *full[32];
        size_t n = 0;
        if (pg->as_postgres) {
                full[n++] = "runuser";
                full[n++] = "-u";
                full[n++] = "postgres";
                full[n++] = "--";
        }
        for (size_t i = 0; argv[i] && n < 31; i++)
                full[n++] = argv[i];
        full[n] = NULL;
        char log[300];
        snprintf(log, sizeof(log), "%s/cmd.log", pg->dir);
        pid_t pid = fork();
        if (pid < 0)
                return -1;
        if (pid == 0) {
                int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
                if (fd >= 0) {
                        dup2(fd, 1);
                        dup2(fd, 2);
                        close(fd);
                }
                execvp(full[0], (char *const *)full);
                fprintf(stderr, "exec %s: %s\n", full[0], strerror(errno));
                _exit(127);
        }
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The end of DIR/name appended to errstr, so a failure says why. */
static void append_tail(const pgserver_t *pg, const char *name, char *errstr, size_t errstr_size) {
        char path[300];
        snprintf(path, sizeof(path), "%s/%s", pg->dir, name);
        FILE *f = fopen(path, "r");
        if (!f)
                return;
        char tail[600];
        if (fseek(f, -(long)(sizeof(tail) - 1), SEEK_END) != 0)
                rewind(f);
        size_t n = fread(tail, 1, sizeof(tail) - 1, f);
        tail[n] = 0;
        fclose(f);
        size_t used = strlen(errstr);
        if (used + 1 < errstr_size)
                snprintf(errstr + used, errstr_size - used, " (%s: ...%s)", name, tail);
}

static int find_bindir(pgserver_t *pg) {
        FILE *p = popen("pg_config --bindir 2>/dev/null", "r");
        if (p) {
                char line[512] = "";
                if (fgets(line, sizeof(line), p))
                        line[strcspn(line, "\n")] = 0;
                pclose(p);
                char initdb[600];
                snprintf(initdb, sizeof(initdb), "%s/initdb", line);
                if (line[0] && access(initdb, X_OK) == 0) {
                        snprintf(pg->bindir, sizeof(pg->bindir), "%s", line);
                        return 0;
                }
        }
        glob_t g;
        int found = -1;
        if (glob("/usr/lib/postgresql/*/bin/initdb", 0, NULL, &g) == 0) {
                /* glob sorts: the last is the highest version (same digit count). */
                const char *last = g.gl_pathv[g.gl_pathc - 1];
                size_t len = strlen(last) - strlen("/initdb");
                if (len < sizeof(pg->bindir)) {
                        memcpy(pg->bindir, last, len);
                        pg->bindir[len] = 0;
                        found = 0;
                }
                globfree(&g);
        }
        return found;
}

static int free_port(void) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0)
                return -1;
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof(a);
        int port = -1;
        if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
            getsockname(fd, (struct sockaddr *)&a, &len) == 0)
                port = ntohs(a.sin_port);
        close(fd);
        return port;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void)st;
        (void)flag;
        (void)ftw;
        remove(path);
        return 0;
}

static sb_err_t start_server(pgserver_t *pg, char *errstr, size_t errstr_size) {
        char prog[600], data[300], opts[700], log[300];
        snprintf(prog, sizeof(prog), "%s/pg_ctl", pg->bindir);
        snprintf(data, sizeof(data), "%s/data", pg->dir);
        snprintf(log, sizeof(log), "%s/server.log", pg->dir);
        snprintf(opts, sizeof(opts),
                 "-c listen_addresses=127.0.0.1 -c port=%d -c unix_socket_directories=%s -c fsync=on",
                 pg->port, pg->dir);
        const char *argv[] = {prog, "-D", data, "-l", log, "-w", "-t", "120", "-o", opts, "start", NULL};
        if (run(pg, argv) != 0) {
                sb_seterr(SB_ERR_IO, errstr, errstr_size, "pg_ctl start failed (port %d)", pg->port);
                append_tail(pg, "server.log", errstr, errstr_size);
                return SB_ERR_IO;
        }
        return SB_OK;
}

sb_err_t pgserver_start(pgserver_t **out, char *errstr, size_t errstr_size) {
        pgserver_t *pg = calloc(1, sizeof(*pg));
        if (!pg)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        if (find_bindir(pg) != 0) {
                free(pg);
                return sb_seterr(
                        SB_ERR_NOT_FOUND, errstr, errstr_size,
                        "no PostgreSQL server programs (pg_config --bindir, /usr/lib/postgresql/*/bin): "
                        "install Debian's postgresql package (./setup.sh)");
        }
        snprintf(pg->dir, sizeof(pg->dir), "/tmp/sharebus-pg-XXXXXX");
        if (!mkdtemp(pg->dir)) {
                int e = errno;
                free(pg);
                return sb_seterr(SB_ERR_IO, errstr, errstr_size, "mkdtemp: %s", strerror(e));
        }
        if (geteuid() == 0) {
                const struct passwd *pw = getpwnam("postgres");
                if (!pw || chown(pg->dir, pw->pw_uid, pw->pw_gid) != 0) {
                        sb_seterr(SB_ERR_IO, errstr, errstr_size,
                                  "running as root and cannot give %s to the postgres user (initdb refuses "
                                  "root)",
                                  pg->dir);
                        goto fail;
                }
                pg->as_postgres = 1;
        }
        char prog[600], data[300];
        snprintf(prog, sizeof(prog), "%s/initdb", pg->bindir);
        snprintf(data, sizeof(data), "%s/data", pg->dir);
        /* --no-sync: initdb's own flush only matters for a machine crash;
         * the server keeps fsync on. */
        const char *argv[] = {prog,       "-D", data,   "-A",        "trust", "-U",
                              "sharebus", "-E", "UTF8", "--no-sync", NULL};
        if (run(pg, argv) != 0) {
                sb_seterr(SB_ERR_IO, errstr, errstr_size, "initdb failed");
                append_tail(pg, "cmd.log", errstr, errstr_size);
                goto fail;
        }
        /* A port found free can be taken before the server binds it: retry. */
        sb_err_t err = SB_ERR_IO;
        for (int attempt = 0; attempt < 3 && err; attempt++) {
                if ((pg->port = free_port()) < 0) {
                        sb_seterr(SB_ERR_IO, errstr, errstr_size, "no free port: %s", strerror(errno));
                        goto fail;
                }
                err = start_server(pg, errstr, errstr_size);
        }
        if (err)
                goto fail;
        snprintf(pg->conninfo, sizeof(pg->conninfo), "host=127.0.0.1 port=%d user=sharebus dbname=postgres",
                 pg->port);
        *out = pg;
        return SB_OK;
fail:
        nftw(pg->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        free(pg);
        return SB_ERR_IO;
}

void pgserver_stop_destroy(pgserver_t *pg) {
        if (!pg)
                return;
        char prog[600], data[300];
        snprintf(prog, sizeof(prog), "%s/pg_ctl", pg->bindir);
        snprintf(data, sizeof(data), "%s/data", pg->dir);
        const char *argv[] = {prog, "-D", data, "-m", "fast", "-w", "stop", NULL};
        struct stat st;
        char pid_file[320];
        snprintf(pid_file, sizeof(pid_file), "%s/postmaster.pid", data);
        if (stat(pid_file, &st) == 0)
                run(pg, argv);
        nftw(pg->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        free(pg);
}

const char *pgserver_conninfo(const pgserver_t *pg) { return pg->conninfo; }

const char *pgserver_dir(const pgserver_t *pg) { return pg->dir; }

const char *pgserver_db_conninfo(const pgserver_t *pg, const char *name, char *out, size_t size) {
        snprintf(out, size, "host=127.0.0.1 port=%d user=sharebus dbname=%s", pg->port, name);
        return out;
}

static void quiet(void *arg, const char *message) {
        (void)arg;
        (void)message;
}

static int is_identifier(const char *s) {
        if (!s[0] || strlen(s) > 63 || !((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
                return 0;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
                        return 0;
        return 1;
}

sb_err_t pgserver_create_db(pgserver_t *pg, const char *name, char *errstr, size_t errstr_size) {
        if (!is_identifier(name))
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size, "'%s' is not a plain database name",
                                 name);
        PGconn *c = PQconnectdb(pg->conninfo);
        if (PQstatus(c) != CONNECTION_OK) {
                sb_seterr(SB_ERR_DB, errstr, errstr_size, "connect %s: %s", pg->conninfo, PQerrorMessage(c));
                PQfinish(c);
                return SB_ERR_DB;
        }
        PQsetNoticeProcessor(c, quiet, NULL); /* "does not exist, skipping" */
        char sql[200];
        sb_err_t err = SB_OK;
        const char *steps[] = {"DROP DATABASE IF EXISTS %s WITH (FORCE)", "CREATE DATABASE %s"};
        for (size_t i = 0; i < 2 && !err; i++) {
                snprintf(sql, sizeof(sql), steps[i], name);
                PGresult *r = PQexec(c, sql);
                if (PQresultStatus(r) != PGRES_COMMAND_OK)
                        err = sb_seterr(SB_ERR_DB, errstr, errstr_size, "%s: %s", sql, PQerrorMessage(c));
                PQclear(r);
        }
        PQfinish(c);
        return err;
}

sb_err_t pgserver_crash(pgserver_t *pg, char *errstr, size_t errstr_size) {
        char prog[600], data[300];
        snprintf(prog, sizeof(prog), "%s/pg_ctl", pg->bindir);
        snprintf(data, sizeof(data), "%s/data", pg->dir);
        const char *argv[] = {prog, "-D", data, "-m", "immediate", "-w", "stop", NULL};
        if (run(pg, argv) != 0) {
                sb_seterr(SB_ERR_IO, errstr, errstr_size, "pg_ctl -m immediate stop failed");
                append_tail(pg, "cmd.log", errstr, errstr_size);
                return SB_ERR_IO;
        }
        return SB_OK;
}

sb_err_t pgserver_restart(pgserver_t *pg, char *errstr, size_t errstr_size) {
        return start_server(pg, errstr, errstr_size);
}
