/* Power-cut simulation for the fault suite (LD_PRELOAD).
 *
 * After every successful fsync()/fdatasync() of a file directly inside
 * $POWERCUT_SRC, copy that file to $POWERCUT_DST (write a temp file, then
 * rename). $POWERCUT_DST therefore always holds each file exactly as it was
 * at its last sync: what a disk keeps when the power goes and every
 * unsynced write is lost. A file never synced does not exist there.
 * Unlinks are mirrored at once: metadata operations are taken as durable
 * (ext4's journal commits them within seconds), data writes are not.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void snapshot(int fd) {
    const char *src = getenv("POWERCUT_SRC");
    const char *dst = getenv("POWERCUT_DST");
    if (!src || !dst) return;
    char link[64], path[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n <= 0) return;
    path[n] = 0;
    size_t sl = strlen(src);
    if (strncmp(path, src, sl) != 0 || path[sl] != '/' || strchr(path + sl + 1, '/')) return;
    const char *base = path + sl + 1;
    char tmp[PATH_MAX], out[PATH_MAX];
    snprintf(out, sizeof out, "%s/%s", dst, base);
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dst, base);
    int in = open(path, O_RDONLY);
    if (in < 0) return;
    int o = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (o < 0) { close(in); return; }
    char buf[65536];
    ssize_t r;
    while ((r = read(in, buf, sizeof buf)) > 0) {
        if (write(o, buf, (size_t)r) != r) break;
    }
    close(in);
    close(o);
    rename(tmp, out);
}

static void forget(const char *path) {
    const char *src = getenv("POWERCUT_SRC");
    const char *dst = getenv("POWERCUT_DST");
    if (!src || !dst || !path) return;
    size_t sl = strlen(src);
    if (strncmp(path, src, sl) != 0 || path[sl] != '/' || strchr(path + sl + 1, '/')) return;
    char out[PATH_MAX];
    snprintf(out, sizeof out, "%s/%s", dst, path + sl + 1);
    static int (*real_unlink)(const char *);
    if (!real_unlink) real_unlink = (int (*)(const char *))dlsym(RTLD_NEXT, "unlink");
    real_unlink(out);
}

int unlink(const char *path) {
    static int (*real)(const char *);
    if (!real) real = (int (*)(const char *))dlsym(RTLD_NEXT, "unlink");
    int rc = real(path);
    if (rc == 0) forget(path);
    return rc;
}

int fsync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    int rc = real(fd);
    if (rc == 0) snapshot(fd);
    return rc;
}

int fdatasync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    int rc = real(fd);
    if (rc == 0) snapshot(fd);
    return rc;
}
