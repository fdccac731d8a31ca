"""Work done at import time: a dataclass, a module-level loop and a lazily imported
module, then calls from the main code."""

import dataclasses
import json

TABLE = {}
for i in range(50):
    TABLE[i] = str(i)


@dataclasses.dataclass
class Item:
    name: str
    qty: int = 0

    def cost(self, price):
        return self.qty * price


def encode(items):
    import textwrap
    return textwrap.shorten(json.dumps([dataclasses.asdict(i) for i in items]), 60)


items = [Item(f"item{i}", i) for i in range(20)]
print(encode(items), sum(i.cost(2) for i in items))  # rewind-snapshot
