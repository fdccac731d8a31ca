import sys

print("leaving with 3")
print("to stderr", file=sys.stderr)
sys.exit(3)
