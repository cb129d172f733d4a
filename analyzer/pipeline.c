/*
 * The load pipeline: a reader thread streams the members of a snapshot
 * (decompression, SHA-256, JSON parsing) into a bounded queue, and the
 * caller's thread consumes them in archive order. On two cores the wall
 * time of a load is the slower of the two stages, not their sum. The
 * consumer sees exactly what a sequential walk would, in the same order.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE */

#include "analyzer/pipeline.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "analyzer/verify.h"

/* Deep enough that each side runs for a while between wakeups. */
#define QUEUE_CAP 512
#define QUEUE_LOW (QUEUE_CAP / 4)
/* Fewer parsed members than this waiting: the reader defers parsing. */
#define DEFER_BELOW 64
/* Items the consumer takes per lock: the two threads took the lock about
 * five times per member, a tenth of a CPU second on 10,000 accounts. */
#define POP_BATCH 32

struct queue {
    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full;
    struct pipe_item *items[QUEUE_CAP];
    size_t head, count;
    atomic_size_t waiting;      /* count, read without the lock */
    atomic_int stop;            /* the consumer failed: stop reading */
    int producer_waiting;       /* the reader waits for room */
    int consumer_waiting;       /* the consumer waits for items */
    struct pipe_item *garbage;  /* consumed items, freed by the reader:
                                   glibc frees fastest in the allocating
                                   thread's arena */
    const char *source;
    const struct src_limits *limits;
    struct strmap *paths;       /* the reader's (pipeline_run) */
    struct verify_order order;  /* the reader's: paths in archive order */
    struct ct_error walk_err;
};

/*
 * Parse arenas. jansson builds a tree of many small allocations and frees
 * them one by one: glibc's malloc and free took about a fifth of the reader
 * thread. While the reader parses a member, jansson's small allocations are
 * bump allocations in fixed-size chunks of one reserved address range; free
 * does nothing for an address in that range, and the item's chunks go back
 * to a free list when it is freed. Every other allocation (large ones, any
 * jansson use outside a parse, a range that is full) is plain malloc/free,
 * and such a "mixed" tree is still walked by json_decref.
 */
#define ARENA_CHUNK 8192                   /* bytes per chunk */
#define ARENA_MAX_ALLOC (ARENA_CHUNK / 4)  /* larger: malloc */
#define ARENA_RANGE ((size_t)1 << 31)      /* reserved, not committed */
#define ARENA_ALIGN 16

struct arena_chunk {
    struct arena_chunk *next;
};

struct pipe_arena {
    struct arena_chunk *chunks; /* in use, newest first */
    size_t used;                /* bytes used of the newest chunk */
    int mixed;                  /* something went to malloc */
};

static struct {
    pthread_mutex_t lock;
    char *base;                 /* NULL: arenas off */
    size_t top;                 /* bytes of the range handed out */
    struct arena_chunk *free;   /* released chunks */
    int running;                /* pipelines running */
} arenas = {PTHREAD_MUTEX_INITIALIZER, NULL, 0, NULL, 0};

static _Thread_local struct pipe_arena *current_arena;

static int in_arena_range(const void *p)
{
    return arenas.base && (const char *)p >= arenas.base
           && (const char *)p < arenas.base + ARENA_RANGE;
}

static struct arena_chunk *chunk_get(void)
{
    struct arena_chunk *c = NULL;
    pthread_mutex_lock(&arenas.lock);
    if (arenas.free) {
        c = arenas.free;
        arenas.free = c->next;
    } else if (arenas.top + ARENA_CHUNK <= ARENA_RANGE) {
        c = (struct arena_chunk *)(arenas.base + arenas.top);
        arenas.top += ARENA_CHUNK;
    }
    pthread_mutex_unlock(&arenas.lock);
    return c;
}

static void arena_free(struct pipe_arena *a)
{
    if (!a)
        return;
    if (a->chunks) {
        struct arena_chunk *last = a->chunks;
        while (last->next)
            last = last->next;
        pthread_mutex_lock(&arenas.lock);
        last->next = arenas.free;
        arenas.free = a->chunks;
        pthread_mutex_unlock(&arenas.lock);
    }
    free(a);
}

static void *json_alloc(size_t n)
{
    struct pipe_arena *a = current_arena;
    if (a && n <= ARENA_MAX_ALLOC) {
        n = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
        if (!a->chunks || a->used + n > ARENA_CHUNK) {
            struct arena_chunk *c = chunk_get();
            if (c) {
                c->next = a->chunks;
                a->chunks = c;
                a->used = ARENA_ALIGN; /* the link, padded */
            }
        }
        if (a->chunks && a->used + n <= ARENA_CHUNK) {
            void *p = (char *)a->chunks + a->used;
            a->used += n;
            return p;
        }
    }
    if (a)
        a->mixed = 1;
    return malloc(n);
}

static void json_release(void *p)
{
    if (!in_arena_range(p))
        free(p);
}

/* A pipeline starts (delta 1) or ends (-1). When the last one ends, no
 * chunk is in use: the range's pages go back to the system. */
static void arenas_running(int delta)
{
    pthread_mutex_lock(&arenas.lock);
    arenas.running += delta;
    if (arenas.base && arenas.running == 0 && arenas.top) {
        madvise(arenas.base, arenas.top, MADV_DONTNEED);
        arenas.top = 0;
        arenas.free = NULL;
    }
    pthread_mutex_unlock(&arenas.lock);
}

void pipeline_global_init(void)
{
    void *base = mmap(NULL, ARENA_RANGE, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED)
        return; /* no arenas: jansson's defaults */
    arenas.base = base;
    json_set_alloc_funcs(json_alloc, json_release);
}

void pipe_item_free(struct pipe_item *it)
{
    if (!it)
        return;
    free(it->path);
    /* a tree wholly in its arena goes with the arena, without a walk */
    if (!it->arena || it->arena->mixed)
        json_decref(it->root);
    arena_free(it->arena);
    free(it->data);
    free(it->msg);
    free(it);
}

/* Blocks while the queue is full. Takes ownership of it. */
static void queue_push(struct queue *q, struct pipe_item *it)
{
    struct pipe_item *garbage;
    pthread_mutex_lock(&q->lock);
    garbage = q->garbage;
    q->garbage = NULL;
    while (q->count == QUEUE_CAP) {
        q->producer_waiting = 1;
        pthread_cond_wait(&q->not_full, &q->lock);
    }
    q->items[(q->head + q->count) % QUEUE_CAP] = it;
    q->count++;
    atomic_store_explicit(&q->waiting, q->count, memory_order_relaxed);
    /* wake the consumer only when it may be waiting: an empty queue (or
     * an END item, which must never wait for company) */
    if (q->consumer_waiting
        && (q->count >= QUEUE_LOW || it->type == ITEM_END))
        pthread_cond_signal(&q->not_empty);
    pthread_mutex_unlock(&q->lock);
    while (garbage) {
        struct pipe_item *next = (struct pipe_item *)garbage->msg;
        garbage->msg = NULL;
        pipe_item_free(garbage);
        garbage = next;
    }
}

/* Consumer side: takes up to max items into out (waiting for one), and
 * hands the consumed items of `garbage` (linked through their msg field,
 * msg itself freed) back to the reader to free. */
static size_t queue_pop(struct queue *q, struct pipe_item **out, size_t max,
                        struct pipe_item *garbage)
{
    size_t n = 0;
    pthread_mutex_lock(&q->lock);
    while (garbage) {
        struct pipe_item *next = (struct pipe_item *)garbage->msg;
        garbage->msg = (char *)q->garbage;
        q->garbage = garbage;
        garbage = next;
    }
    while (q->count == 0) {
        q->consumer_waiting = 1;
        pthread_cond_wait(&q->not_empty, &q->lock);
        q->consumer_waiting = 0;
    }
    while (n < max && q->count > 0) {
        out[n++] = q->items[q->head];
        q->head = (q->head + 1) % QUEUE_CAP;
        q->count--;
    }
    atomic_store_explicit(&q->waiting, q->count, memory_order_relaxed);
    /* wake the producer once the queue has room for a batch */
    if (q->producer_waiting && q->count <= QUEUE_LOW) {
        q->producer_waiting = 0;
        pthread_cond_signal(&q->not_full);
    }
    pthread_mutex_unlock(&q->lock);
    return n;
}

static int queue_stopped(struct queue *q)
{
    return atomic_load_explicit(&q->stop, memory_order_relaxed);
}

static char *format_msg(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static char *format_msg(const char *fmt, ...)
{
    char buf[CT_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    return strdup(buf);
}

/* Parses the bytes of a JSON member into it->root, or sets parse_rc and
 * msg. Runs on whichever thread the item is parsed on. Returns nonzero only
 * when out of memory. */
static int parse_item(struct pipe_item *it, const unsigned char *data,
                      size_t size)
{
    json_error_t jerr;
    if (arenas.base && !(it->arena = calloc(1, sizeof(*it->arena))))
        return -1;
    current_arena = it->arena;
    it->root = json_loadb((const char *)data, size, 0, &jerr);
    current_arena = NULL;
    if (!it->root) {
        it->parse_rc = CT_EPARSE;
        it->msg = size == 0 ? format_msg("member '%s': empty file", it->path)
                            : format_msg("member '%s': invalid JSON at line "
                                         "%d, column %d: %s",
                                         it->path, jerr.line, jerr.column,
                                         jerr.text);
    } else if (!json_is_object(it->root)) {
        json_decref(it->root);
        it->root = NULL;
        it->parse_rc = CT_EPARSE;
        it->msg = format_msg("member '%s': expected a JSON object", it->path);
    }
    return it->parse_rc && !it->msg ? -1 : 0;
}

/* Whether the consumer is about to run out of work: the reader then hands
 * members over unparsed, so that the consumer parses them instead of
 * waiting (see produce_member). */
static int queue_short(struct queue *q)
{
    /* a hint: a stale count only moves one member's parsing */
    return atomic_load_explicit(&q->waiting, memory_order_relaxed)
           < DEFER_BELOW;
}

/*
 * Reader thread: classify and parse one member. Parsing is most of the
 * reader's work, and on two cores the reader is the slower side of a load:
 * when the queue runs short the member goes over as bytes and the consumer
 * parses it (pipeline_run), so the two threads share the parsing. Order,
 * results and error messages are the same either way.
 */
static int produce_member(void *ctx, const struct src_member *m,
                          struct ct_error *err)
{
    struct queue *q = ctx;
    struct pipe_item *it;
    if (queue_stopped(q))
        return ct_error_set(err, CT_EIO, "stopped");
    /* the manifest's bookkeeping, here rather than on the consumer's
     * thread, which inserts the rows and is the slower one */
    const char *stored = NULL;
    struct member_state *st = strmap_put_stored(q->paths, m->path, NULL,
                                                &stored);
    if (!st || verify_order_add(&q->order, stored, st))
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    if (st->flags & MEMBER_PRESENT)
        return ct_error_set(err, CT_EPARSE,
                            "member '%s': appears twice in the snapshot",
                            m->path);
    st->flags |= MEMBER_PRESENT;
    if (verify_hex_digest(st->actual, m->sha256) != 0)
        return ct_error_set(err, CT_EIO, "member '%s': bad digest", m->path);
    it = calloc(1, sizeof(*it));
    if (!it || !(it->path = strdup(m->path))) {
        free(it);
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    }
    it->type = ITEM_MEMBER;
    memcpy(it->sha256, m->sha256, sizeof(it->sha256));
    it->size = m->size;
    ct_snapshot_classify(&it->ref, m->path);
    switch (it->ref.kind) {
    case CT_MEMBER_UNKNOWN:
    case CT_MEMBER_DIRECTORY:
        break;
    case CT_MEMBER_CHECKSUMS: {
        int rc = verify_add_checksums(q->paths, &q->order, m, err);
        if (rc) {
            pipe_item_free(it);
            return rc;
        }
        break;
    }
    default:
        if (queue_short(q)) {
            /* the bytes, NUL-terminated, parsed by the consumer */
            if (!(it->data = malloc(m->size + 1))) {
                pipe_item_free(it);
                return ct_error_set(err, CT_ENOMEM, "out of memory");
            }
            memcpy(it->data, m->data, m->size);
            it->data[m->size] = '\0';
            it->deferred = 1;
        } else if (parse_item(it, m->data, m->size)) {
            pipe_item_free(it);
            return ct_error_set(err, CT_ENOMEM, "out of memory");
        }
    }
    queue_push(q, it);
    return 0;
}

static void produce_warning(void *ctx, const char *path, const char *msg)
{
    struct queue *q = ctx;
    struct pipe_item *it = calloc(1, sizeof(*it));
    if (!it)
        return;
    it->type = ITEM_WARNING;
    it->path = strdup(path);
    it->msg = strdup(msg);
    if (!it->path || !it->msg) {
        pipe_item_free(it);
        return;
    }
    queue_push(q, it);
}

static void *reader_main(void *arg)
{
    struct queue *q = arg;
    /* preallocated by pipeline_run: the END item always gets through */
    struct pipe_item *end = q->items[0];
    q->items[0] = NULL;
    end->end_rc = src_walk(q->source, q->limits, produce_member,
                           produce_warning, q, &q->walk_err);
    queue_push(q, end);
    return NULL;
}

int pipeline_run(const char *source, const struct src_limits *limits,
                 struct strmap *paths, pipe_member_fn consume,
                 pipe_warn_fn warn, void *ctx, struct ct_error *err)
{
    struct queue q;
    pthread_t reader;
    int rc = 0, walk_rc = 0;
    struct pipe_item *end = calloc(1, sizeof(*end));
    if (!end)
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    end->type = ITEM_END;
    memset(&q, 0, sizeof(q));
    atomic_init(&q.waiting, 0);
    atomic_init(&q.stop, 0);
    q.source = source;
    q.limits = limits;
    q.paths = paths;
    q.items[0] = end; /* handed to the reader before the queue is used */
    arenas_running(1);
    pthread_mutex_init(&q.lock, NULL);
    pthread_cond_init(&q.not_empty, NULL);
    pthread_cond_init(&q.not_full, NULL);
    if (pthread_create(&reader, NULL, reader_main, &q) != 0) {
        free(end);
        rc = ct_error_set(err, CT_ENOMEM, "cannot start the reader thread");
        goto done;
    }
    struct pipe_item *batch[POP_BATCH], *garbage = NULL;
    size_t n = 0, i = 0;
    for (;;) {
        if (i == n) {
            n = queue_pop(&q, batch, POP_BATCH, garbage);
            i = 0;
            garbage = NULL;
        }
        struct pipe_item *it = batch[i++];
        if (it->type == ITEM_END) {
            walk_rc = it->end_rc;
            pipe_item_free(it);
            break;
        }
        if (rc == 0) {
            if (it->type == ITEM_WARNING) {
                warn(ctx, it->path, it->msg);
            } else if (it->deferred) {
                rc = parse_item(it, it->data, it->size)
                         ? ct_error_set(err, CT_ENOMEM, "out of memory")
                         : 0;
                free(it->data);
                it->data = NULL;
                it->deferred = 0;
            }
            if (rc == 0 && it->type == ITEM_MEMBER)
                rc = consume(ctx, it, err);
            if (rc)
                atomic_store(&q.stop, 1);
        }
        /* to the reader, which frees it (see struct queue) */
        free(it->msg);
        it->msg = (char *)garbage;
        garbage = it;
    }
    /* END is the last item: nothing follows it in the batch */
    while (garbage) {
        struct pipe_item *next = (struct pipe_item *)garbage->msg;
        garbage->msg = NULL;
        pipe_item_free(garbage);
        garbage = next;
    }
    pthread_join(reader, NULL);
    while (q.garbage) { /* what the reader did not get to */
        struct pipe_item *next = (struct pipe_item *)q.garbage->msg;
        q.garbage->msg = NULL;
        pipe_item_free(q.garbage);
        q.garbage = next;
    }
    if (rc == 0 && walk_rc)
        rc = ct_error_set(err, walk_rc, "%s", q.walk_err.message);
done:
    verify_order_release(&q.order);
    arenas_running(-1);
    pthread_cond_destroy(&q.not_empty);
    pthread_cond_destroy(&q.not_full);
    pthread_mutex_destroy(&q.lock);
    return rc;
}

