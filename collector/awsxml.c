/*
 * XML answers of the query-protocol services, read with libxml2's tree API.
 * Elements are matched by local name, so namespaces do not matter.
 */
#include "collector/awsxml.h"

#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/crypto.h>

static int name_is(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE &&
           strcmp((const char *)n->name, name) == 0;
}

static xmlNode *child(const xmlNode *n, const char *name)
{
    if (!n)
        return NULL;
    for (xmlNode *c = n->children; c; c = c->next)
        if (name_is(c, name))
            return c;
    return NULL;
}

/* First element called name in document order (depth first). */
static xmlNode *find(xmlNode *n, const char *name)
{
    for (; n; n = n->next) {
        if (name_is(n, name))
            return n;
        xmlNode *f = find(n->children, name);
        if (f)
            return f;
    }
    return NULL;
}

/* Text of a child element, owned (xmlFree) or NULL. */
static char *child_text(const xmlNode *n, const char *name)
{
    xmlNode *c = child(n, name);
    return c ? (char *)xmlNodeGetContent(c) : NULL;
}

static xmlDoc *parse(const char *body, size_t len, struct ct_error *err)
{
    xmlDoc *doc = NULL;
    if (len > 0 && len < (size_t)2147483647)
        doc = xmlReadMemory(body, (int)len, NULL, NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR |
                                XML_PARSE_NOWARNING);
    if (!doc)
        ct_error_set(err, CT_EPARSE, "response is not XML");
    return doc;
}

void awsxml_error(char *code, size_t code_size, char *message, size_t msg_size,
                  const char *body, size_t len)
{
    code[0] = message[0] = '\0';
    xmlDoc *doc = parse(body, len, NULL);
    if (!doc)
        return;
    xmlNode *e = find(xmlDocGetRootElement(doc), "Error");
    char *c = child_text(e, "Code");
    char *m = child_text(e, "Message");
    if (c)
        snprintf(code, code_size, "%s", c);
    if (m)
        snprintf(message, msg_size, "%s", m);
    xmlFree(c);
    xmlFree(m);
    xmlFreeDoc(doc);
}

/* Adds key: text of element name under parent (skipped when absent). */
static int add_text(json_t *obj, const char *key, const xmlNode *parent,
                    const char *name, struct ct_error *err)
{
    char *t = child_text(parent, name);
    int rc = 0;
    if (t && json_object_set_new(obj, key, json_string(t)) != 0)
        rc = ct_error_set(err, CT_EPARSE, "invalid text in <%s>", name);
    xmlFree(t);
    return rc;
}

int awsxml_caller_identity(json_t **out, const char *body, size_t len,
                           struct ct_error *err)
{
    json_t *obj = NULL;
    int rc = 0;
    xmlDoc *doc = parse(body, len, err);
    if (!doc)
        return CT_EPARSE;
    xmlNode *r = find(xmlDocGetRootElement(doc), "GetCallerIdentityResult");
    if (!r) {
        rc = ct_error_set(err, CT_EPARSE, "no GetCallerIdentityResult");
        goto done;
    }
    obj = json_object();
    if (!obj) {
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = add_text(obj, "UserId", r, "UserId", err)) != 0 ||
        (rc = add_text(obj, "Account", r, "Account", err)) != 0 ||
        (rc = add_text(obj, "Arn", r, "Arn", err)) != 0)
        goto done;
    if (!json_object_get(obj, "Account")) {
        rc = ct_error_set(err, CT_EPARSE, "GetCallerIdentity without Account");
        goto done;
    }
    *out = obj;
    obj = NULL;
done:
    json_decref(obj);
    xmlFreeDoc(doc);
    return rc;
}

int awsxml_account_aliases(json_t **out, const char *body, size_t len,
                           struct ct_error *err)
{
    json_t *obj = NULL, *arr = NULL;
    int rc = 0;
    xmlDoc *doc = parse(body, len, err);
    if (!doc)
        return CT_EPARSE;
    xmlNode *r = find(xmlDocGetRootElement(doc), "ListAccountAliasesResult");
    if (!r) {
        rc = ct_error_set(err, CT_EPARSE, "no ListAccountAliasesResult");
        goto done;
    }
    obj = json_object();
    arr = json_array();
    if (!obj || !arr || json_object_set(obj, "AccountAliases", arr) != 0) {
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
        goto done;
    }
    xmlNode *list = child(r, "AccountAliases");
    for (xmlNode *m = list ? list->children : NULL; m; m = m->next) {
        if (!name_is(m, "member"))
            continue;
        char *t = (char *)xmlNodeGetContent(m);
        int bad = !t || json_array_append_new(arr, json_string(t)) != 0;
        xmlFree(t);
        if (bad) {
            rc = ct_error_set(err, CT_EPARSE, "invalid account alias");
            goto done;
        }
    }
    *out = obj;
    obj = NULL;
done:
    json_decref(arr);
    json_decref(obj);
    xmlFreeDoc(doc);
    return rc;
}

int awsxml_regions(json_t **out, const char *body, size_t len,
                   struct ct_error *err)
{
    json_t *obj = NULL, *arr = NULL;
    int rc = 0;
    xmlDoc *doc = parse(body, len, err);
    if (!doc)
        return CT_EPARSE;
    xmlNode *info = find(xmlDocGetRootElement(doc), "regionInfo");
    if (!info) {
        rc = ct_error_set(err, CT_EPARSE, "no regionInfo");
        goto done;
    }
    obj = json_object();
    arr = json_array();
    if (!obj || !arr || json_object_set(obj, "Regions", arr) != 0) {
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
        goto done;
    }
    for (xmlNode *it = info->children; it; it = it->next) {
        if (!name_is(it, "item"))
            continue;
        json_t *reg = json_object();
        if (!reg || json_array_append_new(arr, reg) != 0) {
            rc = ct_error_set(err, CT_ENOMEM, "out of memory");
            goto done;
        }
        if ((rc = add_text(reg, "Endpoint", it, "regionEndpoint", err)) != 0 ||
            (rc = add_text(reg, "RegionName", it, "regionName", err)) != 0 ||
            (rc = add_text(reg, "OptInStatus", it, "optInStatus", err)) != 0)
            goto done;
        if (!json_object_get(reg, "RegionName")) {
            rc = ct_error_set(err, CT_EPARSE, "region without regionName");
            goto done;
        }
    }
    *out = obj;
    obj = NULL;
done:
    json_decref(arr);
    json_decref(obj);
    xmlFreeDoc(doc);
    return rc;
}

/* "2011-07-15T23:28:33.359Z" -> epoch seconds (UTC); 0 when unparsable. */
static time_t parse_expiration(const char *s)
{
    int y, mo, d, h, mi, se;
    if (!s ||
        sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &se) != 6)
        return 0;
    /* days from civil (Howard Hinnant), avoiding non-POSIX timegm */
    y -= mo <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153L * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    long days = era * 146097 + doe - 719468;
    return (time_t)(days * 86400L + h * 3600L + mi * 60L + se);
}

static void free_secret(char *s)
{
    if (s) {
        OPENSSL_cleanse(s, strlen(s));
        xmlFree(s);
    }
}

int awsxml_assume_role(struct ct_credentials *out, const char *body, size_t len,
                       struct ct_error *err)
{
    struct ct_credentials c = CT_CREDENTIALS_INIT;
    char *ak = NULL, *sk = NULL, *tok = NULL, *exp = NULL;
    int rc = 0;
    xmlDoc *doc = parse(body, len, err);
    if (!doc)
        return CT_EPARSE;
    xmlNode *cr = find(xmlDocGetRootElement(doc), "Credentials");
    ak = child_text(cr, "AccessKeyId");
    sk = child_text(cr, "SecretAccessKey");
    tok = child_text(cr, "SessionToken");
    exp = child_text(cr, "Expiration");
    if (!ak || !sk || !*ak || !*sk) {
        rc = ct_error_set(err, CT_EPARSE,
                          "AssumeRole answer has no credentials");
        goto done;
    }
    c.access_key_id = strdup(ak);
    c.secret_access_key = strdup(sk);
    c.session_token = tok && *tok ? strdup(tok) : NULL;
    c.expiration = parse_expiration(exp);
    c.provider = "assume-role";
    if (!c.access_key_id || !c.secret_access_key ||
        (tok && *tok && !c.session_token)) {
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
        goto done;
    }
    *out = c;
    c = (struct ct_credentials)CT_CREDENTIALS_INIT;
done:
    ct_credentials_release(&c);
    free_secret(ak);
    free_secret(sk);
    free_secret(tok);
    xmlFree(exp);
    if (doc) {
        /* the tree holds the secrets too: wipe its text before freeing */
        xmlNode *n = find(xmlDocGetRootElement(doc), "Credentials");
        for (xmlNode *m = n ? n->children : NULL; m; m = m->next)
            if (m->type == XML_ELEMENT_NODE)
                xmlNodeSetContent(m, (const xmlChar *)"");
        xmlFreeDoc(doc);
    }
    return rc;
}
