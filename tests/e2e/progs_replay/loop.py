def work(items):
    total = 0
    for item in items:
        total += item
        if total > 5:
            total -= 1
    return total


values = [1, 2, 3, 4]
r = work(values)
r2 = work(values[:2])
