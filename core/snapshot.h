/*
 * The snapshot format, version 1: the only contract between ctcollect and
 * ctaudit. schema/SNAPSHOT.md documents it for people; this module is its
 * single implementation: it builds member paths (collector) and classifies
 * them (analyzer). Both directions are tested against each other.
 */
#ifndef CT_CORE_SNAPSHOT_H
#define CT_CORE_SNAPSHOT_H

#include <stddef.h>

#include "core/error.h"

#define CT_SNAPSHOT_FORMAT "ctaudit-snapshot"
#define CT_SNAPSHOT_VERSION 1
#define CT_SNAPSHOT_MANIFEST "manifest.json"
#define CT_SNAPSHOT_CHECKSUMS "SHA256SUMS"

/* Bounds on path components (AWS limits, with room to spare). */
#define CT_ACCOUNT_ID_LEN 12
#define CT_REGION_MAX 32
#define CT_TRAIL_NAME_MAX 128
#define CT_OPERATION_MAX 64
#define CT_MEMBER_PATH_MAX 512

enum ct_member_kind {
    CT_MEMBER_UNKNOWN = 0,      /* not part of the format: ignored, warned */
    CT_MEMBER_DIRECTORY,        /* a directory entry of the format: skipped */
    CT_MEMBER_MANIFEST,         /* manifest.json */
    CT_MEMBER_CHECKSUMS,        /* SHA256SUMS (sha256sum format) */
    CT_MEMBER_ORG_DESCRIBE,     /* organization/describe-organization.json */
    CT_MEMBER_ORG_ACCOUNTS,     /* organization/list-accounts.json */
    CT_MEMBER_ORG_COSTS,        /* organization/cost-and-usage[.<k>].json */
    CT_MEMBER_ORG_ERROR,        /* organization/errors/<op>.json */
    CT_MEMBER_IDENTITY,         /* accounts/<id>/identity.json */
    CT_MEMBER_ALIASES,          /* accounts/<id>/aliases.json */
    CT_MEMBER_REGIONS,          /* accounts/<id>/regions.json */
    CT_MEMBER_ACCOUNT_ERROR,    /* accounts/<id>/error.json (not scanned) */
    CT_MEMBER_ACCOUNT_OP_ERROR, /* accounts/<id>/errors/<op>.json */
    CT_MEMBER_DESCRIBE_TRAILS,  /* accounts/<id>/<region>/describe-trails.json */
    CT_MEMBER_EVENT_SELECTORS,  /* .../trails/<owner>/<name>/get-event-selectors.json */
    CT_MEMBER_INSIGHT_SELECTORS,/* .../get-insight-selectors.json */
    CT_MEMBER_TRAIL_STATUS,     /* .../get-trail-status.json */
    CT_MEMBER_REGION_ERROR      /* accounts/<id>/<region>/errors/<op>[.<owner>.<name>].json */
};

/* What a member path says. Strings are NUL-terminated; empty when absent. */
struct ct_member_ref {
    enum ct_member_kind kind;
    char account[CT_ACCOUNT_ID_LEN + 1];
    char region[CT_REGION_MAX + 1];
    char owner[CT_ACCOUNT_ID_LEN + 1];      /* trail owner account */
    char trail_name[CT_TRAIL_NAME_MAX + 1];
    char operation[CT_OPERATION_MAX + 1];   /* API operation, errors only */
    unsigned long page; /* CT_MEMBER_ORG_COSTS: 1 for cost-and-usage.json,
                         * k for cost-and-usage.<k>.json */
};

/* Highest page number of a cost-and-usage member (one page is $0.01). */
#define CT_COST_PAGE_MAX 999999

/*
 * Classifies a member path relative to the snapshot root ("accounts/...").
 * Never fails: a path outside the format is CT_MEMBER_UNKNOWN. A path that
 * has the format's shape but a malformed component (account id not 12
 * digits, trail name with '/', ...) is CT_MEMBER_UNKNOWN too.
 */
void ct_snapshot_classify(struct ct_member_ref *out, const char *path);

/* Name of a kind, for messages ("describe-trails"); borrowed, static. */
const char *ct_member_kind_name(enum ct_member_kind kind);

/*
 * Builds the member path for ref into buf (size bytes). Fields not used by
 * ref->kind are ignored. Returns CT_EINVAL for a component that the
 * classifier would reject, CT_ELIMIT if buf is too small.
 */
int ct_snapshot_member_path(char *buf, size_t size,
                            const struct ct_member_ref *ref,
                            struct ct_error *err);

/* Component validators used by both directions (1 valid, 0 not). */
int ct_valid_account_id(const char *s);
int ct_valid_region(const char *s);
int ct_valid_trail_name(const char *s);
int ct_valid_operation(const char *s);

/* Partition of a region name: "aws-cn" for cn-*, "aws-us-gov" for
 * us-gov-*, "aws-iso"/"aws-iso-b" for us-iso-/us-isob-, else "aws". */
const char *ct_region_partition(const char *region);

#endif
