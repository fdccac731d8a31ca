import atexit


def work(n):
    return [i * 2 for i in range(n)]


def goodbye(label):
    done = len(work(5))
    print(label, done)


atexit.register(goodbye, "bye")
print(sum(work(10)))
