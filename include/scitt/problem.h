/*
 * scitt/problem.h — RFC 9290 concise problem details, the body of every scittd error response.
 */
#ifndef SCITT_PROBLEM_H
#define SCITT_PROBLEM_H

#include "scitt/base.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SCITT_PROBLEM_MEDIA_TYPE "application/concise-problem-details+cbor"

/**
 * Appends the CBOR map {-1: title, -2: detail} to @p out (title and detail must be valid UTF-8
 * text; they are written as CBOR text strings). SCITT_ERR_UTF8 when they are not.
 */
SCITT_API SCITT_MUST_USE scitt_err scitt_problem_encode(const char *title, const char *detail,
                                                        scitt_dynbuf *out);

#ifdef __cplusplus
}
#endif

#endif /* SCITT_PROBLEM_H */
