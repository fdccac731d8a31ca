# An infinite loop: only --timeout ends it.
def spin():
    n = 0
    while True:
        n += 1


print("spinning", flush=True)
spin()
