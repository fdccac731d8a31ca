import asyncio


async def leaf(n):
    await asyncio.sleep(0)
    return n * 2


async def branch(n):
    a = await leaf(n)
    b = await leaf(n + 1)
    return a + b


async def main():
    results = await asyncio.gather(branch(1), branch(10))
    return sum(results)


print(asyncio.run(main()))
