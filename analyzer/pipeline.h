/*
 * The load pipeline (see pipeline.c): members of a snapshot read, hashed
 * and parsed on a reader thread, consumed in archive order by the caller.
 */
#ifndef CT_ANALYZER_PIPELINE_H
#define CT_ANALYZER_PIPELINE_H

#include <stddef.h>

#include <jansson.h>

#include "analyzer/source.h"
#include "analyzer/strmap.h"
#include "core/error.h"
#include "core/snapshot.h"

enum pipe_item_type { ITEM_MEMBER, ITEM_WARNING, ITEM_END };

struct pipe_arena;

/*
 * Lets the reader thread parse each member into an arena released in one
 * go (see pipeline.c). Installs jansson allocation functions, so call it
 * once at process start, before any JSON value exists (main.c does). Values
 * allocated outside a parse stay on the heap: json_dumps() and free() work
 * as usual. Without it the pipeline parses with jansson's defaults.
 */
void pipeline_global_init(void);

/* One member, read and parsed. Everything is owned by the pipeline and
 * valid during the consume callback only. */
struct pipe_item {
    enum pipe_item_type type;
    char *path;
    char sha256[CT_SHA256_HEX_LEN + 1];
    size_t size;
    struct ct_member_ref ref;   /* ct_snapshot_classify(path) */
    json_t *root;               /* the parsed JSON object, for JSON kinds */
    struct pipe_arena *arena;   /* what root was parsed into, or NULL */
    unsigned char *data;        /* pipeline-internal: the bytes of a
                                   member whose parsing was deferred */
    int deferred;               /* pipeline-internal: data is to be parsed
                                   on the consumer's thread */
    int parse_rc;               /* nonzero: the member is not a JSON object;
                                   msg names the member and the problem */
    char *msg;                  /* parse error, or warning text */
    int end_rc;                 /* ITEM_END: the walk's result */
};

/* Returns 0 to go on, a negative ct_status to stop (err set). */
typedef int (*pipe_member_fn)(void *ctx, struct pipe_item *it,
                              struct ct_error *err);
typedef void (*pipe_warn_fn)(void *ctx, const char *path, const char *msg);

/*
 * Walks source (src_walk) on a reader thread and calls consume for every
 * member and warn for every remark, in archive order, on the caller's
 * thread. The first consume error stops the walk and is returned; else the
 * walk's own error, if any.
 *
 * The reader also keeps the members' digests and SHA256SUMS' lines in
 * paths (path -> struct member_state, verify.h), which the caller must not
 * touch until this returns: a member seen twice, or a SHA256SUMS that is
 * not sha256sum's format, is the walk's error at that member. consume
 * then gets SHA256SUMS as a member without data.
 */
int pipeline_run(const char *source, const struct src_limits *limits,
                 struct strmap *paths, pipe_member_fn consume,
                 pipe_warn_fn warn, void *ctx, struct ct_error *err);

void pipe_item_free(struct pipe_item *it);

#endif
