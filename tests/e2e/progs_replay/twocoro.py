import asyncio


async def ticker(name, n):
    total = 0
    for i in range(n):
        total += i
        await asyncio.sleep(0)
        total += 1
    return name, total


async def main():
    results = await asyncio.gather(ticker("a", 3), ticker("b", 2))
    return dict(results)


print(asyncio.run(main()))
