class Stack:
    def __init__(self):
        self.items = []

    def push(self, x):
        self.items.append(x)

    def pop(self):
        return self.items.pop()

    def __len__(self):
        return len(self.items)


def main():
    s = Stack()
    for word in "the quick brown fox".split():
        s.push(word.upper())
    out = []
    while len(s):
        out.append(s.pop())
    table = {w: len(w) for w in out}
    print(sorted(table, key=lambda w: (table[w], w)), isinstance(s, Stack), max(table.values()))
    return ", ".join(out)


print(main())
