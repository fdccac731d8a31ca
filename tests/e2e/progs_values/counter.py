"""display: a value that changes, a list changed in place, an expression that raises."""

items = []
count = 0


def bump(n):
    global count
    count += n
    items.append(n)
    return count


for k in range(6):
    bump(k)
    if k % 2:
        print("odd", k)
label = "end"
print(count, items)
