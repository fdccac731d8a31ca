import tracestate_lib


def caller():
    tracestate_lib.f()
    x = 1
    return x


def again():
    y = caller()
    return y + 1


caller()
z = again()
print(z)
