# Raises in one run and not in the other, as the environment decides (the environment
# is not compared: the same program and arguments).
import os


def parse(text):
    try:
        return int(text)  # PARSE
    except ValueError:
        return -1  # FALLBACK


def main():
    value = parse(os.environ.get("DIFF_VALUE", "7"))
    print(value)


main()
