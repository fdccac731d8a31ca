import threading


def work(n):
    total = 0
    for i in range(n):
        total += i
    return total


def run(name, n, out):
    out[name] = work(n)


out = {}
threads = [threading.Thread(target=run, args=(f"w{i}", 50 * (i + 1), out), name=f"worker-{i}")
           for i in range(3)]
for t in threads:
    t.start()
    t.join()
print(sorted(out.items()))
