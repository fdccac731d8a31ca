"""A small order book: the bundled example program for `rewind record`.

It does, on a small scale, what real programs do and what a recording captures: a
class, functions calling each other, a generator, a caught exception, a worker thread,
allocations (lists, dicts, strings) and file I/O (open() raises an audit event); it
exits with status 0. Its output is the same on every run.

    python3 examples/orders.py
    ./build/rewind record -o orders.rwd examples/orders.py && ./build/rewind info orders.rwd
"""

import json
import os
import queue
import tempfile
import threading

ORDERS_CSV = """\
id,customer,item,quantity,unit_price
1,ada,keyboard,1,49.90
2,grace,mouse,2,19.95
3,ada,monitor,1,189.00
4,linus,cable,-3,4.50
5,grace,keyboard,1,49.90
6,barbara,laptop,1,1249.00
7,linus,mouse,one,19.95
8,ada,cable,4,4.50
"""


class Order:
    """One line of the order file, validated."""

    def __init__(self, order_id, customer, item, quantity, unit_price):
        if quantity <= 0:
            raise ValueError(f"order {order_id}: quantity must be positive, got {quantity}")
        self.order_id = order_id
        self.customer = customer
        self.item = item
        self.quantity = quantity
        self.unit_price = unit_price

    @property
    def total(self):
        return round(self.quantity * self.unit_price, 2)

    def __repr__(self):
        return f"Order({self.order_id}, {self.customer!r}, {self.item!r} x{self.quantity})"


def read_rows(path):
    """Yields each data row of a CSV file as a dict (a generator)."""
    with open(path, encoding="utf-8") as f:
        header = f.readline().strip().split(",")
        for line in f:
            yield dict(zip(header, line.strip().split(",")))


def parse(rows):
    """Turns rows into Orders; returns (orders, errors). Bad rows are reported, not fatal."""
    orders, errors = [], []
    for row in rows:
        try:
            orders.append(Order(int(row["id"]), row["customer"], row["item"],
                                int(row["quantity"]), float(row["unit_price"])))
        except ValueError as exc:
            errors.append(f"row {row['id']}: {exc}")
    return orders, errors


def totals_worker(inbox, result):
    """Runs in a thread: sums the orders it is sent per customer until it gets None."""
    per_customer = {}
    while True:
        order = inbox.get()
        if order is None:
            break
        per_customer[order.customer] = round(per_customer.get(order.customer, 0) + order.total, 2)
    result.update(per_customer)


def fibonacci(n):
    """Loyalty points: deliberately recursive, to give the trace some depth."""
    return n if n < 2 else fibonacci(n - 1) + fibonacci(n - 2)


def report(orders, per_customer, errors):
    lines = [f"{len(orders)} orders, {len(errors)} rejected"]
    for customer in sorted(per_customer, key=lambda c: (-per_customer[c], c)):
        count = sum(1 for o in orders if o.customer == customer)
        lines.append(f"  {customer:<8} {count} order(s) {per_customer[customer]:>9.2f}"
                     f"  points {fibonacci(count + 10)}")
    lines.extend(f"  rejected {e}" for e in errors)
    return "\n".join(lines)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "orders.csv")
        with open(path, "w", encoding="utf-8") as f:
            f.write(ORDERS_CSV)
        orders, errors = parse(read_rows(path))

    inbox, per_customer = queue.Queue(), {}
    worker = threading.Thread(target=totals_worker, args=(inbox, per_customer), name="totals")
    worker.start()
    for order in orders:
        inbox.put(order)
    inbox.put(None)
    worker.join()

    print(report(orders, per_customer, errors))
    summary = {"orders": [repr(o) for o in orders],
               "grand_total": round(sum(per_customer.values()), 2)}
    print(json.dumps(summary, sort_keys=True))


if __name__ == "__main__":
    main()
