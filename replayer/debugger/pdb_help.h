/* Help texts of the debugger's commands: pdb's own (CPython 3.11 Lib/pdb.py) with
 * notes where a replay differs, and the texts of rewind's reverse commands. Used by
 * the debugger's help command only. */
#ifndef RW_PDB_HELP_H
#define RW_PDB_HELP_H

typedef struct rw_pdb_help {
    const char *name; /* as typed: "b", "break", "rstep" */
    const char *text; /* printed as is */
} rw_pdb_help;

/* The text for a command name, NULL when none. */
const rw_pdb_help *rw_pdb_help_find(const char *name);

/* pdb's "help exec" text (for the ! command). */
extern const char rw_pdb_help_exec[];

#endif
