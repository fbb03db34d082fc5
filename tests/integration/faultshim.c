/*
 * Failures on demand for one process: an LD_PRELOAD library that makes one allocation, or one
 * OpenSSL context allocation, fail when the test says so, so that a test can watch a real scittd
 * answer a failure of its own (memory, the crypto library) during a registration.
 *
 * Environment: SCITT_FAULT_FILE, a file of at least 4 bytes that the library maps shared; the
 * test writes into it while the process runs:
 *   byte 0  what to fail: 0 nothing, 'a' an allocation (malloc, calloc, realloc), 'c' an
 *           EVP_MD_CTX_new (OpenSSL's message-digest context; the library answers NULL as it does
 *           when it runs out of memory);
 *   byte 1  which one: the N-th such call (1..255) after byte 0 is set, counted on the worker
 *           pool's threads only (not the main one, the event loop's: HTTP parsing stays
 *           untouched; nor scittd's named threads: the worker that checks a statement is hit);
 *   byte 2  set by the library: how many failures it made (so the test knows it fired).
 * After firing, byte 0 is cleared: one failure per arming.
 *
 * Allocation failures go through glibc's __libc_malloc family, so they cannot be combined with a
 * sanitizer's allocator: sanitizer builds compile this without them (FAULTSHIM_NO_ALLOC) and leave
 * the allocation case out.
 * A test fixture, never part of scittd.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <openssl/evp.h>

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);

static _Atomic(uint8_t) *ctl; /* the mapped file, or NULL */
static atomic_uint seen;      /* calls of the armed kind counted since arming */
static pid_t main_tid;
static char main_name[16]; /* the main thread's name, which unnamed threads inherit */

__attribute__((constructor)) static void fault_init(void)
{
    main_tid = getpid();
    (void)prctl(PR_GET_NAME, main_name, 0, 0, 0);
    const char *path = getenv("SCITT_FAULT_FILE");
    if (!path) {
        return;
    }
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        return;
    }
    void *p = mmap(NULL, 4, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (p != MAP_FAILED) {
        ctl = p;
    }
}

/* Is the caller one of the worker pool's threads? They keep the process's name; scittd names
 * its own threads (sequencer, receipts, reads, indexer, lease), which allocate on their own
 * schedule and would otherwise take the failure meant for the check of a statement. */
static int pool_thread(void)
{
    char name[16] = {0};
    return prctl(PR_GET_NAME, name, 0, 0, 0) == 0 && strcmp(name, main_name) == 0;
}

/* Should this call of kind @p kind fail? */
static int fire(uint8_t kind)
{
    if (!ctl || atomic_load_explicit(&ctl[0], memory_order_relaxed) != kind) {
        if (ctl && atomic_load_explicit(&ctl[0], memory_order_relaxed) == 0) {
            atomic_store(&seen, 0);
        }
        return 0;
    }
    if ((pid_t)syscall(SYS_gettid) == main_tid || !pool_thread()) {
        return 0;
    }
    unsigned n = atomic_fetch_add(&seen, 1) + 1;
    if (n != atomic_load(&ctl[1])) {
        return 0;
    }
    uint8_t want = kind;
    if (!atomic_compare_exchange_strong(&ctl[0], &want, 0)) {
        return 0;
    }
    atomic_fetch_add(&ctl[2], 1);
    return 1;
}

#ifndef FAULTSHIM_NO_ALLOC
void *malloc(size_t n)
{
    return fire('a') ? NULL : __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
    return fire('a') ? NULL : __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
    return fire('a') ? NULL : __libc_realloc(p, n);
}
#endif

EVP_MD_CTX *EVP_MD_CTX_new(void)
{
    static EVP_MD_CTX *(*real)(void);
    if (!real) {
        void *sym = dlsym(RTLD_NEXT, "EVP_MD_CTX_new");
        memcpy(&real, &sym, sizeof(sym)); /* ISO C has no object-to-function pointer cast */
    }
    if (fire('c') || !real) {
        return NULL;
    }
    return real();
}
