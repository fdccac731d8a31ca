"""State that depends on files, directories and stdin (recorder/libc/files*.c).

Each value is printed once, as `name=repr(value)`, on the recorded stdout. At the line
marked STOP, `p NAME` must show exactly the repr printed for NAME, in a replay run from
a copy of the trace in another directory, after the scratch directory is gone, with
other stdin, and the replay must create, write and remove nothing:
    p text     -> the str printed as text=     (a file read and then deleted: open/read)
    p names    -> the list printed as names=   (os.listdir: opendir/readdir, in the
                  directory's order, not sorted)
    p entries  -> the list printed as entries= (os.scandir: readdir, d_type, lstat)
    p size     -> the int printed as size=     (os.stat: stat)
    p mtime    -> the int printed as mtime=    (st_mtime_ns)
    p cwd      -> the str printed as cwd=      (os.getcwd: getcwd)
    p missing  -> the str printed as missing=  (the errno of a stat that failed)
    p link     -> the str printed as link=     (os.readlink)
    p stdin    -> the str printed as stdin=    (sys.stdin.read(): read of fd 0; run it
                  with some input piped in, e.g. `echo hi | rewind record ...`)
    p exists   -> the bool printed as exists=  (os.path.exists after the removal)
Run by the recording: the scratch directory is removed at the end, so the replay can only
get these values from the trace.
"""
import os
import shutil
import sys
import tempfile

scratch = tempfile.mkdtemp(prefix="rewind-files-")
path = os.path.join(scratch, "data.txt")
with open(path, "w") as f:
    f.write(f"pid {os.getpid()} wrote this\n")
for n in ("b", "a", "c"):
    open(os.path.join(scratch, n), "w").close()
os.symlink("data.txt", os.path.join(scratch, "link"))
with open(path) as f:
    text = f.read()
names = os.listdir(scratch)
entries = sorted((e.name, e.is_file(follow_symlinks=False), e.is_symlink())
                 for e in os.scandir(scratch))
st = os.stat(path)
size = st.st_size
mtime = st.st_mtime_ns
os.chdir(scratch)
cwd = os.getcwd()
try:
    os.stat("no-such-file")
    missing = "none"
except OSError as e:
    missing = os.strerror(e.errno)
link = os.readlink("link")
stdin = sys.stdin.read()
os.remove(path)
exists = os.path.exists(path)
os.chdir("/")
shutil.rmtree(scratch)
for name in ("text", "names", "entries", "size", "mtime", "cwd", "missing", "link", "stdin",
             "exists"):
    print(f"{name}={globals()[name]!r}")
done = True  # STOP
