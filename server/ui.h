/*
 * server/ui.h — the explorer's static files, compiled into scittd (ui_assets.c is generated from
 * server/ui/ by ui_embed.cmake) and served under /ui/ by ui.c.
 */
#ifndef SCITT_SERVER_UI_H
#define SCITT_SERVER_UI_H

#include <stddef.h>

typedef struct scittd_ui_asset {
    const char *name; /* file name under /ui/, e.g. "app.js"; NULL ends the table */
    const char *type; /* Content-Type */
    const unsigned char *data;
    size_t len;
} scittd_ui_asset;

extern const scittd_ui_asset scittd_ui_assets[];

/*
 * The policy every explorer response carries: scripts and styles from this origin only (no
 * inline script or style, no other origin), fetches to this origin only, no framing, no plugins,
 * no form posts elsewhere. Blob URLs are for payload downloads.
 */
#define SCITTD_UI_CSP                                                                              \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "                    \
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

#endif
