def squares(n):
    for i in range(n):
        yield i * i


def consume():
    acc = []
    for v in squares(3):
        acc.append(v)
    return acc


out = consume()
done = len(out)
