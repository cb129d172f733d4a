/* The subcommands of ctaudit: each returns an exit status (cli.h). */
#ifndef CT_ANALYZER_COMMANDS_H
#define CT_ANALYZER_COMMANDS_H

int cmd_load(int argc, char **argv);
int cmd_sql(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_rules(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_plan(int argc, char **argv);

#endif
