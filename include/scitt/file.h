/*
 * scitt/file.h — writing a file so that it survives a crash: the one helper every file that is
 * replaced by rename goes through (the service keystore, the auditor's state, exported tiles).
 *
 * A rename is a change to the directory that holds the file, and a directory is made durable by
 * fsyncing the directory itself: fsyncing the renamed file is not enough (POSIX, and in practice
 * on ext4 and XFS without data=journal). Until then a power cut can bring back the old file, or
 * none at all, while everything written after the rename (say, log entries signed with a new key)
 * is on disk.
 */
#ifndef SCITT_FILE_H
#define SCITT_FILE_H

#include <sys/types.h>

#include "scitt/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Flag for scitt_file_replace: do neither fsync. For writers of many files that make them durable
 * together afterwards (one syncfs, then scitt_dir_sync where names must be durable in order).
 */
#define SCITT_FILE_NO_SYNC (1u << 0)

/**
 * Replaces @p path with @p data: writes `<path>.tmp.<pid>` (created with @p mode), fsyncs it,
 * renames it over @p path and fsyncs the directory that holds @p path. Readers see the old
 * content or the new one, never a mix; once it returns SCITT_OK the new content survives a crash
 * or a power cut. On failure the temporary file is removed, @p path is left as it was, and errno
 * says what failed. SCITT_ERR_NO_SPACE (ENOSPC, EDQUOT) or SCITT_ERR_IO.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_file_replace(const char *path, scitt_span data,
                                                      mode_t mode, unsigned flags);

/**
 * Makes the names in directory @p dir durable (files created, renamed or removed in it): fsync of
 * the directory. A file system that cannot sync directories (EINVAL) counts as done. SCITT_ERR_IO,
 * with errno, otherwise.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_dir_sync(const char *dir);

/** scitt_dir_sync of the directory that holds @p path ("." for a bare name). */
SCITT_API SCITT_MUST_USE scitt_err scitt_dir_sync_parent(const char *path);

#ifdef __cplusplus
}
#endif

#endif /* SCITT_FILE_H */
