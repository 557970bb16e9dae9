from optables import OpCase

CASES = [
    OpCase("add", lambda L, a, b: a + b, [(3, 4), (3, 4)]),
    OpCase("add_broadcast", lambda L, a, b: a + b, [(3, 1), (4,)]),
    OpCase("mul_scalar", lambda L, a: a * 2.5, [(2, 3)]),
    OpCase("log", lambda L, a: L.log(a), [(3, 4)], domain="positive"),
]
