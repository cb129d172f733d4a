/* ctaudit rules: list the rules, or show one. */
#include "analyzer/commands.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "analyzer/cli.h"
#include "analyzer/rules.h"

static const char usage[] =
    "usage: ctaudit rules [--rules-dir DIR] [RULE-ID]\n"
    "\n"
    "Lists the rules (built-in, and those of --rules-dir) with their\n"
    "severity and title; with RULE-ID, shows its rationale, remediation and\n"
    "SQL. Rules are documented in schema/README.md.\n"
    "\n"
    "  --rules-dir DIR  add the rules in DIR/*.sql (checked as they load)\n"
    "  -h, --help       this help\n";

int cmd_rules(int argc, char **argv)
{
    enum { OPT_RULES_DIR = 2000 };
    static const struct option longopts[] = {
        {"rules-dir", required_argument, NULL, OPT_RULES_DIR},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    struct rule_set rules = RULE_SET_INIT;
    struct ct_error err = CT_ERROR_INIT;
    const char *dir = NULL;
    int opt, status = CT_EXIT_ERROR;

    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (opt) {
        case OPT_RULES_DIR: dir = optarg; break;
        case 'h': fputs(usage, stdout); return cli_finish_stdout();
        default: fputs(usage, stderr); return CT_EXIT_USAGE;
        }
    }
    if (argc - optind > 1) {
        fputs(usage, stderr);
        return CT_EXIT_USAGE;
    }
    if (rules_load(&rules, dir, &err)) {
        cli_error("rules: %s", err.message);
        goto done;
    }
    if (optind < argc) {
        const struct rule *r = NULL;
        for (size_t i = 0; i < rules.n_rules; i++)
            if (strcmp(rules.rules[i].id, argv[optind]) == 0)
                r = &rules.rules[i];
        if (!r) {
            cli_error("rules: no rule '%s' (see ctaudit rules)", argv[optind]);
            goto done;
        }
        printf("id: %s\ntitle: %s\nseverity: %s\norigin: %s\nrationale: %s\n"
               "remediation: %s\n\n%s",
               r->id, r->title, r->severity, r->origin, r->rationale,
               r->remediation, r->sql);
    } else {
        for (size_t i = 0; i < rules.n_rules; i++)
            printf("%-36s %-8s %s%s\n", rules.rules[i].id,
                   rules.rules[i].severity, rules.rules[i].title,
                   strcmp(rules.rules[i].origin, "built-in") == 0 ? ""
                                                                 : " (user)");
    }
    status = cli_finish_stdout();
done:
    rules_release(&rules);
    return status;
}
