import asyncio


async def work(n):
    total = 0
    await asyncio.sleep(0)
    total += n
    await asyncio.sleep(0)
    return total


async def main():
    a = await work(1)
    b = await work(2)
    return a + b


print(asyncio.run(main()))
