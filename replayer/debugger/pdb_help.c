/* Help texts of the debugger's commands (pdb_help.h).
 *
 * The pdb texts are CPython 3.11's Lib/pdb.py docstrings, verbatim (help prints them
 * as pdb does, with their indentation), each followed by a "rewind:" note where
 * replaying a recording differs from debugging a live program. Generated from
 * /usr/lib/python3.11/pdb.py; the reverse commands' texts are ours.
 */
#include "pdb_help.h"

#include <string.h>

static const rw_pdb_help pdb_texts[] = {
    {"EOF",
    "EOF\n"
    "        Handles the receipt of EOF as a command."},
    {"a",
    "a(rgs)\n"
    "        Print the argument list of the current function.\n"
    "        rewind: values come from re-executing the recording (help p); without\n"
    "        it, the argument names from the recording and why."},
    {"alias",
    "alias [name [command [parameter parameter ...] ]]\n"
    "        Create an alias called 'name' that executes 'command'.  The\n"
    "        command must *not* be enclosed in quotes.  Replaceable\n"
    "        parameters can be indicated by %1, %2, and so on, while %* is\n"
    "        replaced by all the parameters.  If no command is given, the\n"
    "        current alias for name is shown. If no name is given, all\n"
    "        aliases are listed.\n"
    "\n"
    "        Aliases may be nested and can contain anything that can be\n"
    "        legally typed at the pdb prompt.  Note!  You *can* override\n"
    "        internal pdb commands with aliases!  Those internal commands\n"
    "        are then hidden until the alias is removed.  Aliasing is\n"
    "        recursively applied to the first word of the command line; all\n"
    "        other words in the line are left alone.\n"
    "\n"
    "        As an example, here are two useful aliases (especially when\n"
    "        placed in the .pdbrc file):\n"
    "\n"
    "        # Print instance variables (usage \"pi classInst\")\n"
    "        alias pi for k in %1.__dict__.keys(): print(\"%1.\",k,\"=\",%1.__dict__[k])\n"
    "        # Print instance variables in self\n"
    "        alias ps pi self"},
    {"args",
    "a(rgs)\n"
    "        Print the argument list of the current function.\n"
    "        rewind: values come from re-executing the recording (help p); without\n"
    "        it, the argument names from the recording and why."},
    {"b",
    "b(reak) [ ([filename:]lineno | function) [, condition] ]\n"
    "        Without argument, list all breaks.\n"
    "\n"
    "        With a line number argument, set a break at this line in the\n"
    "        current file.  With a function name, set a break at the first\n"
    "        executable line of that function.  If a second argument is\n"
    "        present, it is a string specifying an expression which must\n"
    "        evaluate to true before the breakpoint is honored.\n"
    "\n"
    "        The line number may be prefixed with a filename and a colon,\n"
    "        to specify a breakpoint in another file (probably one that\n"
    "        hasn't been loaded yet).  The file is searched for on\n"
    "        sys.path; the .py suffix may be omitted.\n"
    "        rewind: the condition is evaluated at each hit by re-executing the\n"
    "        recording; without values the breakpoint stops at every hit."},
    {"break",
    "b(reak) [ ([filename:]lineno | function) [, condition] ]\n"
    "        Without argument, list all breaks.\n"
    "\n"
    "        With a line number argument, set a break at this line in the\n"
    "        current file.  With a function name, set a break at the first\n"
    "        executable line of that function.  If a second argument is\n"
    "        present, it is a string specifying an expression which must\n"
    "        evaluate to true before the breakpoint is honored.\n"
    "\n"
    "        The line number may be prefixed with a filename and a colon,\n"
    "        to specify a breakpoint in another file (probably one that\n"
    "        hasn't been loaded yet).  The file is searched for on\n"
    "        sys.path; the .py suffix may be omitted.\n"
    "        rewind: the condition is evaluated at each hit by re-executing the\n"
    "        recording; without values the breakpoint stops at every hit."},
    {"bt",
    "w(here)\n"
    "        Print a stack trace, with the most recent frame at the bottom.\n"
    "        An arrow indicates the \"current frame\", which determines the\n"
    "        context of most commands.  'bt' is an alias for this command."},
    {"c",
    "c(ont(inue))\n"
    "        Continue execution, only stop when a breakpoint is encountered.\n"
    "        rewind: stops at the end of the recording if no breakpoint is hit;\n"
    "        'rcontinue' goes back to the previous breakpoint hit.  With\n"
    "        watchpoints (help watch) both also stop where a watched value\n"
    "        changes.\n"
    "        The program's output shows as the replay passes it (not backwards)."},
    {"cl",
    "cl(ear) filename:lineno\n"
    "cl(ear) [bpnumber [bpnumber...]]\n"
    "        With a space separated list of breakpoint numbers, clear\n"
    "        those breakpoints.  Without argument, clear all breaks (but\n"
    "        first ask confirmation).  With a filename:lineno argument,\n"
    "        clear all breaks at that line in that file."},
    {"clear",
    "cl(ear) filename:lineno\n"
    "cl(ear) [bpnumber [bpnumber...]]\n"
    "        With a space separated list of breakpoint numbers, clear\n"
    "        those breakpoints.  Without argument, clear all breaks (but\n"
    "        first ask confirmation).  With a filename:lineno argument,\n"
    "        clear all breaks at that line in that file."},
    {"commands",
    "commands [bpnumber]\n"
    "        (com) ...\n"
    "        (com) end\n"
    "        (Pdb)\n"
    "\n"
    "        Specify a list of commands for breakpoint number bpnumber.\n"
    "        The commands themselves are entered on the following lines.\n"
    "        Type a line containing just 'end' to terminate the commands.\n"
    "        The commands are executed when the breakpoint is hit.\n"
    "\n"
    "        To remove all commands from a breakpoint, type commands and\n"
    "        follow it immediately with end; that is, give no commands.\n"
    "\n"
    "        With no bpnumber argument, commands refers to the last\n"
    "        breakpoint set.\n"
    "\n"
    "        You can use breakpoint commands to start your program up\n"
    "        again.  Simply use the continue command, or step, or any other\n"
    "        command that resumes execution.\n"
    "\n"
    "        Specifying any command resuming execution (currently continue,\n"
    "        step, next, return, jump, quit and their abbreviations)\n"
    "        terminates the command list (as if that command was\n"
    "        immediately followed by end).  This is because any time you\n"
    "        resume execution (even with a simple next or step), you may\n"
    "        encounter another breakpoint -- which could have its own\n"
    "        command list, leading to ambiguities about which list to\n"
    "        execute.\n"
    "\n"
    "        If you use the 'silent' command in the command list, the usual\n"
    "        message about stopping at a breakpoint is not printed.  This\n"
    "        may be desirable for breakpoints that are to print a specific\n"
    "        message and then continue.  If none of the other commands\n"
    "        print anything, you will see no sign that the breakpoint was\n"
    "        reached.\n"
    "        rewind: the list also runs when rcontinue stops at the breakpoint;\n"
    "        the reverse commands and goto also end a list."},
    {"condition",
    "condition bpnumber [condition]\n"
    "        Set a new condition for the breakpoint, an expression which\n"
    "        must evaluate to true before the breakpoint is honored.  If\n"
    "        condition is absent, any existing condition is removed; i.e.,\n"
    "        the breakpoint is made unconditional.\n"
    "        rewind: the condition is evaluated at each hit by re-executing the\n"
    "        recording; without values the breakpoint stops at every hit."},
    {"cont",
    "c(ont(inue))\n"
    "        Continue execution, only stop when a breakpoint is encountered.\n"
    "        rewind: stops at the end of the recording if no breakpoint is hit;\n"
    "        'rcontinue' goes back to the previous breakpoint hit.  With\n"
    "        watchpoints (help watch) both also stop where a watched value\n"
    "        changes.\n"
    "        The program's output shows as the replay passes it (not backwards)."},
    {"continue",
    "c(ont(inue))\n"
    "        Continue execution, only stop when a breakpoint is encountered.\n"
    "        rewind: stops at the end of the recording if no breakpoint is hit;\n"
    "        'rcontinue' goes back to the previous breakpoint hit.  With\n"
    "        watchpoints (help watch) both also stop where a watched value\n"
    "        changes.\n"
    "        The program's output shows as the replay passes it (not backwards)."},
    {"d",
    "d(own) [count]\n"
    "        Move the current frame count (default one) levels down in the\n"
    "        stack trace (to a newer frame)."},
    {"debug",
    "debug code\n"
    "        Enter a recursive debugger that steps through the code\n"
    "        argument (which is an arbitrary expression or statement to be\n"
    "        executed in the current environment).\n"
    "        rewind: a recursive debugger is not offered ('p', '!' and 'interact'\n"
    "        evaluate in the recorded program)."},
    {"disable",
    "disable bpnumber [bpnumber ...]\n"
    "        Disables the breakpoints given as a space separated list of\n"
    "        breakpoint numbers.  Disabling a breakpoint means it cannot\n"
    "        cause the program to stop execution, but unlike clearing a\n"
    "        breakpoint, it remains in the list of breakpoints and can be\n"
    "        (re-)enabled."},
    {"display",
    "display [expression]\n"
    "\n"
    "        Display the value of the expression if it changed, each time execution\n"
    "        stops in the current frame.\n"
    "\n"
    "        Without expression, list all display expressions for the current frame.\n"
    "        rewind: values come from re-executing the recording; as in pdb, the\n"
    "        same object changed in place is not shown again."},
    {"down",
    "d(own) [count]\n"
    "        Move the current frame count (default one) levels down in the\n"
    "        stack trace (to a newer frame)."},
    {"enable",
    "enable bpnumber [bpnumber ...]\n"
    "        Enables the breakpoints given as a space separated list of\n"
    "        breakpoint numbers."},
    {"exit",
    "q(uit)\n"
    "exit\n"
    "        Quit from the debugger. The program being executed is aborted.\n"
    "        rewind: leaves the replay; the recording is not changed."},
    {"h",
    "h(elp)\n"
    "        Without argument, print the list of available commands.\n"
    "        With a command name as argument, print help about that command.\n"
    "        \"help pdb\" shows the full pdb documentation.\n"
    "        \"help exec\" gives help on the ! command."},
    {"help",
    "h(elp)\n"
    "        Without argument, print the list of available commands.\n"
    "        With a command name as argument, print help about that command.\n"
    "        \"help pdb\" shows the full pdb documentation.\n"
    "        \"help exec\" gives help on the ! command."},
    {"ignore",
    "ignore bpnumber [count]\n"
    "        Set the ignore count for the given breakpoint number.  If\n"
    "        count is omitted, the ignore count is set to 0.  A breakpoint\n"
    "        becomes active when the ignore count is zero.  When non-zero,\n"
    "        the count is decremented each time the breakpoint is reached\n"
    "        and the breakpoint is not disabled and any associated\n"
    "        condition evaluates to true."},
    {"interact",
    "interact\n"
    "\n"
    "        Start an interactive interpreter whose global namespace\n"
    "        contains all the (global and local) names found in the current scope.\n"
    "        rewind: the console runs in a throwaway copy of the recorded program:\n"
    "        nothing it does changes the replay."},
    {"j",
    "j(ump) lineno\n"
    "        Set the next line that will be executed.  Only available in\n"
    "        the bottom-most frame.  This lets you jump back and execute\n"
    "        code again, or jump forward to skip code that you don't want\n"
    "        to run.\n"
    "\n"
    "        It should be noted that not all jumps are allowed -- for\n"
    "        instance it is not possible to jump into the middle of a\n"
    "        for loop or out of a finally clause.\n"
    "        rewind: a recording cannot be changed; use 'goto' to move to any position."},
    {"jump",
    "j(ump) lineno\n"
    "        Set the next line that will be executed.  Only available in\n"
    "        the bottom-most frame.  This lets you jump back and execute\n"
    "        code again, or jump forward to skip code that you don't want\n"
    "        to run.\n"
    "\n"
    "        It should be noted that not all jumps are allowed -- for\n"
    "        instance it is not possible to jump into the middle of a\n"
    "        for loop or out of a finally clause.\n"
    "        rewind: a recording cannot be changed; use 'goto' to move to any position."},
    {"l",
    "l(ist) [first [,last] | .]\n"
    "\n"
    "        List source code for the current file.  Without arguments,\n"
    "        list 11 lines around the current line or continue the previous\n"
    "        listing.  With . as argument, list 11 lines around the current\n"
    "        line.  With one argument, list 11 lines starting at that line.\n"
    "        With two arguments, list the given range; if the second\n"
    "        argument is less than the first, it is a count.\n"
    "\n"
    "        The current line in the current frame is indicated by \"->\".\n"
    "        If an exception is being debugged, the line where the\n"
    "        exception was originally raised or propagated is indicated by\n"
    "        \">>\", if it differs from the current line."},
    {"list",
    "l(ist) [first [,last] | .]\n"
    "\n"
    "        List source code for the current file.  Without arguments,\n"
    "        list 11 lines around the current line or continue the previous\n"
    "        listing.  With . as argument, list 11 lines around the current\n"
    "        line.  With one argument, list 11 lines starting at that line.\n"
    "        With two arguments, list the given range; if the second\n"
    "        argument is less than the first, it is a count.\n"
    "\n"
    "        The current line in the current frame is indicated by \"->\".\n"
    "        If an exception is being debugged, the line where the\n"
    "        exception was originally raised or propagated is indicated by\n"
    "        \">>\", if it differs from the current line."},
    {"ll",
    "longlist | ll\n"
    "        List the whole source code for the current function or frame."},
    {"longlist",
    "longlist | ll\n"
    "        List the whole source code for the current function or frame."},
    {"n",
    "n(ext)\n"
    "        Continue execution until the next line in the current function\n"
    "        is reached or it returns.\n"
    "        rewind: 'rnext' goes back to the previous line of the current function.\n"
    "        The program's output shows as the replay passes it (not backwards)."},
    {"next",
    "n(ext)\n"
    "        Continue execution until the next line in the current function\n"
    "        is reached or it returns.\n"
    "        rewind: 'rnext' goes back to the previous line of the current function.\n"
    "        The program's output shows as the replay passes it (not backwards)."},
    {"p",
    "p expression\n"
    "        Print the value of the expression.\n"
    "        rewind: values come from re-executing the recording, in a throwaway\n"
    "        copy: nothing evaluated changes the replay.  Without values the\n"
    "        command says why in one line, with what the log knows."},
    {"pp",
    "pp expression\n"
    "        Pretty-print the value of the expression.\n"
    "        rewind: values come from re-executing the recording (help p)."},
    {"q",
    "q(uit)\n"
    "exit\n"
    "        Quit from the debugger. The program being executed is aborted.\n"
    "        rewind: leaves the replay; the recording is not changed."},
    {"quit",
    "q(uit)\n"
    "exit\n"
    "        Quit from the debugger. The program being executed is aborted.\n"
    "        rewind: leaves the replay; the recording is not changed."},
    {"r",
    "r(eturn)\n"
    "        Continue execution until the current function returns.\n"
    "        rewind: 'rreturn' goes back to the call of the current function.\n"
    "        The program's output shows as the replay passes it (not backwards)."},
    {"restart",
    "run [args...]\n"
    "        Restart the debugged python program. If a string is supplied\n"
    "        it is split with \"shlex\", and the result is used as the new\n"
    "        sys.argv.  History, breakpoints, actions and debugger options\n"
    "        are preserved.  \"restart\" is an alias for \"run\".\n"
    "        rewind: goes back to the starting point of the replay; a recording cannot\n"
    "        be run with other arguments."},
    {"return",
    "r(eturn)\n"
    "        Continue execution until the current function returns.\n"
    "        rewind: 'rreturn' goes back to the call of the current function.\n"
    "        The program's output shows as the replay passes it (not backwards)."},
    {"retval",
    "retval\n"
    "        Print the return value for the last return of a function.\n"
    "        rewind: values come from re-executing the recording (help p)."},
    {"run",
    "run [args...]\n"
    "        Restart the debugged python program. If a string is supplied\n"
    "        it is split with \"shlex\", and the result is used as the new\n"
    "        sys.argv.  History, breakpoints, actions and debugger options\n"
    "        are preserved.  \"restart\" is an alias for \"run\".\n"
    "        rewind: goes back to the starting point of the replay; a recording cannot\n"
    "        be run with other arguments."},
    {"rv",
    "retval\n"
    "        Print the return value for the last return of a function.\n"
    "        rewind: values come from re-executing the recording (help p)."},
    {"s",
    "s(tep)\n"
    "        Execute the current line, stop at the first possible occasion\n"
    "        (either in a function that is called or in the current\n"
    "        function).\n"
    "        rewind: 'rstep' goes back one step.\n"
    "        The program's output shows as the replay passes it (not backwards)."},
    {"source",
    "source expression\n"
    "        Try to get source code for the given object and display it.\n"
    "        rewind: the object comes from re-executing the recording; without\n"
    "        values, a function that ran, named, from the recorded source."},
    {"step",
    "s(tep)\n"
    "        Execute the current line, stop at the first possible occasion\n"
    "        (either in a function that is called or in the current\n"
    "        function).\n"
    "        rewind: 'rstep' goes back one step.\n"
    "        The program's output shows as the replay passes it (not backwards)."},
    {"tbreak",
    "tbreak [ ([filename:]lineno | function) [, condition] ]\n"
    "        Same arguments as break, but sets a temporary breakpoint: it\n"
    "        is automatically deleted when first hit."},
    {"u",
    "u(p) [count]\n"
    "        Move the current frame count (default one) levels up in the\n"
    "        stack trace (to an older frame)."},
    {"unalias",
    "unalias name\n"
    "        Delete the specified alias."},
    {"undisplay",
    "undisplay [expression]\n"
    "\n"
    "        Do not display the expression any more in the current frame.\n"
    "\n"
    "        Without expression, clear all display expressions for the current frame.\n"
    "        rewind: the displays are the replay's, by frame, as pdb's."},
    {"unt",
    "unt(il) [lineno]\n"
    "        Without argument, continue execution until the line with a\n"
    "        number greater than the current one is reached.  With a line\n"
    "        number, continue execution until a line with a number greater\n"
    "        or equal to that is reached.  In both cases, also stop when\n"
    "        the current frame returns.\n"
    "        rewind: 'runtil' is its mirror, backwards.\n"
    "        The program's output shows as the replay passes it (not backwards)."},
    {"until",
    "unt(il) [lineno]\n"
    "        Without argument, continue execution until the line with a\n"
    "        number greater than the current one is reached.  With a line\n"
    "        number, continue execution until a line with a number greater\n"
    "        or equal to that is reached.  In both cases, also stop when\n"
    "        the current frame returns.\n"
    "        rewind: 'runtil' is its mirror, backwards.\n"
    "        The program's output shows as the replay passes it (not backwards)."},
    {"up",
    "u(p) [count]\n"
    "        Move the current frame count (default one) levels up in the\n"
    "        stack trace (to an older frame)."},
    {"w",
    "w(here)\n"
    "        Print a stack trace, with the most recent frame at the bottom.\n"
    "        An arrow indicates the \"current frame\", which determines the\n"
    "        context of most commands.  'bt' is an alias for this command."},
    {"whatis",
    "whatis arg\n"
    "        Print the type of the argument.\n"
    "        rewind: values come from re-executing the recording (help p)."},
    {"where",
    "w(here)\n"
    "        Print a stack trace, with the most recent frame at the bottom.\n"
    "        An arrow indicates the \"current frame\", which determines the\n"
    "        context of most commands.  'bt' is an alias for this command."},
};

const char rw_pdb_help_exec[] =
    "(!) statement\n"
    "        Execute the (one-line) statement in the context of the current\n"
    "        stack frame.  The exclamation point can be omitted unless the\n"
    "        first word of the statement resembles a debugger command.  To\n"
    "        assign to a global variable you must always prefix the command\n"
    "        with a 'global' command, e.g.:\n"
    "        (Pdb) global list_options; list_options = ['-l']\n"
    "        (Pdb)\n"
    "        rewind: the statement runs in a throwaway copy of the recorded\n"
    "        program (re-executed to this position): what it prints shows, its\n"
    "        changes do not last.";

static const rw_pdb_help rewind_texts[] = {
    {"rstep",
    "rs(tep)\n"
    "        Go back one step: to the previous event where 'step' could have\n"
    "        stopped (a line, or a call, return or exception shown as --Call--,\n"
    "        --Return-- or the exception), going into callees.  'step' from\n"
    "        there comes back here."},
    {"rnext",
    "rn(ext)\n"
    "        Go back to the previous line of the current function; at its first\n"
    "        line, to the line of the caller that made the call."},
    {"rreturn",
    "rr(eturn)\n"
    "        Go back to the call of the current function (shown as --Call--)."},
    {"rcontinue",
    "rc(ont(inue))\n"
    "        Go back to the previous breakpoint hit, or to the start of the\n"
    "        program when there is none.  Breakpoints are honoured as 'continue'\n"
    "        honours them, but hit and ignore counts are left alone.  With\n"
    "        watchpoints (help watch), also the last change of a watched value."},
    {"runtil",
    "runt(il) [lineno]\n"
    "        Without argument, go back to the previous line with a number smaller\n"
    "        than the current one.  With a line number, go back to a line with a\n"
    "        number smaller than or equal to that.  In both cases, also stop at\n"
    "        the call of the current frame."},
    {"goto",
    "goto POS\n"
    "        Go to a position: an event number, @start, @end, @exception, @peak,\n"
    "        a time since the start (1.5s, 250ms, 40us, 100ns) or FILE:LINE (the\n"
    "        first time that line ran).  Positions that are not a Python event\n"
    "        move to the next one."},
    {"when",
    "when\n"
    "        Print the current position (event number), the time since the\n"
    "        start of the recording and the thread."},
    {"thread",
    "thread [N]\n"
    "        Without argument, list the recorded threads, the one viewed marked\n"
    "        with '*'.  With a thread number, view that thread at the current\n"
    "        time (its last event at or before the current position)."},
    {"exceptions",
    "exceptions [--all]\n"
    "        List the exceptions raised in the program's own code (not in\n"
    "        frozen modules or the standard library) with their position,\n"
    "        thread, type, message and place; 'goto POS' goes to one.  With\n"
    "        --all, list every one, the import machinery's included."},
    {"watch",
    "watch [EXPR]\n"
    "        With an expression, set a watchpoint on it in the current frame\n"
    "        (the one 'up' and 'down' select) and print its number and value.\n"
    "        Without one, list the watchpoints with their values here.\n"
    "        While the thread has watchpoints, 'continue' also stops at the\n"
    "        first position where a watched value differs from its value\n"
    "        here, and 'rcontinue' at the first position of the run of values\n"
    "        that holds before here (the nearest change going back), unless a\n"
    "        breakpoint stops them first; the stop prints the watchpoint, its\n"
    "        old and its new value.  'step', 'next', 'until' and 'return'\n"
    "        (and 'rstep', 'rnext', 'runtil', 'rreturn') likewise stop at a\n"
    "        change on their way, and say one that shows where they stop.\n"
    "        The value is the repr 'p' prints (an\n"
    "        exception's line when it raises); where the frame is not on the\n"
    "        stack it is <out of scope>, so leaving the frame is a change.\n"
    "        The search probes positions (galloping, then bisecting): it finds\n"
    "        a change between the two nearest probes that differ, the first\n"
    "        one when the value only changes once (a counter); a change that\n"
    "        is undone between two probes can be missed.  Needs values."},
    {"unwatch",
    "unwatch [N ...]\n"
    "        Delete the watchpoints numbered N, or all of them."},
    {"events",
    "events [N]\n"
    "        Print the raw events of the log around the current position, N\n"
    "        before and after it (default 5), the current one marked with '=>'."},
};

const rw_pdb_help *rw_pdb_help_find(const char *name)
{
    for (size_t i = 0; i < sizeof pdb_texts / sizeof *pdb_texts; i++)
        if (!strcmp(pdb_texts[i].name, name))
            return &pdb_texts[i];
    for (size_t i = 0; i < sizeof rewind_texts / sizeof *rewind_texts; i++)
        if (!strcmp(rewind_texts[i].name, name))
            return &rewind_texts[i];
    return NULL;
}
