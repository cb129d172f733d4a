/*
 * Query-protocol responses (STS, IAM, EC2) read with libxml2 and turned into
 * the JSON the AWS CLI prints for them, so that snapshots made by ctcollect
 * and by the CLI agree (schema/SNAPSHOT.md).
 */
#ifndef CT_COLLECTOR_AWSXML_H
#define CT_COLLECTOR_AWSXML_H

#include <stddef.h>

#include <jansson.h>

#include "collector/credentials.h"
#include "core/error.h"

/* <Error><Code/><Message/></Error> anywhere in body (query and EC2
 * envelopes). Leaves code/message empty when not found. */
void awsxml_error(char *code, size_t code_size, char *message, size_t msg_size,
                  const char *body, size_t len);

/* GetCallerIdentity -> {"UserId","Account","Arn"}. Owned: json_decref. */
int awsxml_caller_identity(json_t **out, const char *body, size_t len,
                           struct ct_error *err);

/* ListAccountAliases -> {"AccountAliases": [...]}. Owned. */
int awsxml_account_aliases(json_t **out, const char *body, size_t len,
                           struct ct_error *err);

/* DescribeRegions -> {"Regions": [{"Endpoint","RegionName","OptInStatus"}]}
 * Owned. */
int awsxml_regions(json_t **out, const char *body, size_t len,
                   struct ct_error *err);

/* AssumeRole -> temporary credentials (owned by out; release with
 * ct_credentials_release). Never copies secrets anywhere else. */
int awsxml_assume_role(struct ct_credentials *out, const char *body, size_t len,
                       struct ct_error *err);

#endif
