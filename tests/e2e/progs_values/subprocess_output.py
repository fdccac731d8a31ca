"""A subprocess's output (recorder/libc/proc.c and exits.c: vfork or fork, waitpid, poll
in communicate; the pipes' bytes come from the file wrappers).

Each value is printed once, as `name=repr(value)`, on the recorded stdout. At the line
marked STOP, `p NAME` must show exactly the repr printed for NAME, in a replay run that
starts no process (echo, python3, sh and cat are not run again):
    p echoed    -> 'hi from echo\n'                  (subprocess.run(['echo', ...]))
    p child_out -> the str printed as child_out=     (a python3 child: its pid and a
                   random number, which differ at every run)
    p child_pid -> the int printed as child_pid=     (Popen.pid: the recorded pid)
    p code      -> 3                                 (an exit status: waitpid)
    p catted    -> b'through cat'                    (communicate: poll, write, read)
"""
import subprocess

echoed = subprocess.run(["echo", "hi from echo"], capture_output=True, text=True).stdout
child = subprocess.Popen(
    ["python3", "-c", "import os, random; print(os.getpid(), random.random())"],
    stdout=subprocess.PIPE, text=True)
child_pid = child.pid
child_out = child.communicate()[0]
code = subprocess.run(["sh", "-c", "exit 3"]).returncode
cat = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
catted = cat.communicate(b"through cat")[0]
for name in ("echoed", "child_out", "child_pid", "code", "catted"):
    print(f"{name}={globals()[name]!r}")
done = True  # STOP
