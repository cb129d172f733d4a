/* ctaudit: the offline analyzer. Subcommands are rows of one table. */
#include <stdio.h>
#include <string.h>

#include "analyzer/cli.h"
#include "analyzer/commands.h"
#include "analyzer/db.h"
#include "analyzer/pipeline.h"

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"report", cmd_report, "what each account and region pays, and why"},
    {"load", cmd_load, "load snapshots into a SQLite database file"},
    {"diff", cmd_diff,
     "what changed between two snapshots, and findings resolved"},
    {"sql", cmd_sql, "run read-only SQL over a snapshot or database"},
    {"rules", cmd_rules, "list the rules, or show one"},
    {"plan", cmd_plan, "remediation steps, checked against the planned state"},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void print_usage(FILE *f)
{
    fputs("usage: ctaudit COMMAND [ARGS]\n\nCommands:\n", f);
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fputs("  help     show help for a command: ctaudit help COMMAND\n"
          "  version  print the version\n"
          "\n"
          "ctaudit never uses the network. Exit status: 0 ok, 1 error,\n"
          "2 usage error, 3 findings at or above --fail-on (report) or a\n"
          "finding introduced (diff --fail-on-introduced).\n",
          f);
}

static const struct command *find_command(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return CT_EXIT_USAGE;
    }
    db_global_init();
    pipeline_global_init();
    const char *name = argv[1];
    if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0) {
        print_usage(stdout);
        return cli_finish_stdout();
    }
    if (strcmp(name, "version") == 0 || strcmp(name, "--version") == 0) {
        printf("ctaudit %s\n", CT_VERSION);
        return cli_finish_stdout();
    }
    if (strcmp(name, "help") == 0) {
        if (argc < 3) {
            print_usage(stdout);
            return cli_finish_stdout();
        }
        const struct command *c = find_command(argv[2]);
        if (!c) {
            cli_error("unknown command '%s'", argv[2]);
            return CT_EXIT_USAGE;
        }
        char *help_argv[] = {argv[2], "--help", NULL};
        return c->run(2, help_argv);
    }
    const struct command *c = find_command(name);
    if (!c) {
        cli_error("unknown command '%s' (see ctaudit --help)", name);
        return CT_EXIT_USAGE;
    }
    return c->run(argc - 1, argv + 1);
}
