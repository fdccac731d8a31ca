# Many events: its trace outgrows a small RLIMIT_FSIZE. Writes nothing itself.
def f(i):
    return i * 2


s = 0
for i in range(300000):
    s += f(i)
print(s)
