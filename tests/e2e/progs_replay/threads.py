import threading


def worker(n):
    total = 0
    for i in range(n):
        total += i
    return total


t = threading.Thread(target=worker, args=(3,), name="w1")
t.start()
t.join()
done = True
