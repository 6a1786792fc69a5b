"""The model ABI (`model_*` exports of build/streamreg.wasm) from Python with wasmtime: no glue, no imports.

NIST Longley (six x columns and an intercept) is fitted through the ABI alone, and every coefficient,
standard error, sigma and R² must equal, bit for bit, the exact answer for the file's doubles, which this
test computes itself with fractions.Fraction: exact rationals from the doubles, Gaussian elimination on XᵀX,
one correctly rounded division (float(Fraction) rounds to nearest, ties to even) or one correctly rounded
square root (integer isqrt and an exact comparison with the midpoint, below) per output.

Run: python3 -m unittest discover -s test/python -v   (after: pip install -r test/python/requirements.txt)
"""
import csv
import math
import pathlib
import struct
import unittest
from fractions import Fraction

import wasmtime

ROOT = pathlib.Path(__file__).resolve().parents[2]
NIST = ROOT / "test" / "fixtures" / "nist"


def read_csv(path):
    with open(path, newline="") as f:
        table = list(csv.reader(f))
    return [[float(v) for v in row] for row in table[1:] if row]


def sqrt_rounded(q):
    """The double nearest to √q for a Fraction q ≥ 0 (ties to even), for results in the normal range."""
    if q == 0:
        return 0.0
    a, b = q.numerator, q.denominator
    # s = ⌊√q·2^m⌋ with exactly 53 bits (⌊√⌊z⌋⌋ = ⌊√z⌋), starting from an estimate of the exponent.
    m = 52 - (a.bit_length() - b.bit_length()) // 2
    while True:
        z = (a << (2 * m)) // b if m >= 0 else a // (b << (-2 * m))
        s = math.isqrt(z)
        if s.bit_length() > 53:
            m -= 1
        elif s.bit_length() < 53:
            m += 1
        else:
            break
    # √q·2^m lies in [s, s + 1): round to s + 1 when it is above the midpoint s + 1/2, i.e. when
    # q·4^m > (s + 1/2)², exactly as rationals; at the midpoint itself, to the even one.
    mid = Fraction(2 * s + 1, 2) ** 2
    scaled = q * Fraction(4) ** m
    if scaled > mid or (scaled == mid and s % 2 == 1):
        s += 1
    return float(Fraction(s) / Fraction(2) ** m)


def exact_fit(points, intercept=True):
    """Coefficients, se, sigma and r2 of y on the x's, exactly, each rounded once (no aliasing here)."""
    rows = [([Fraction(1)] if intercept else []) + [Fraction(v) for v in p[:-1]] for p in points]
    ys = [Fraction(p[-1]) for p in points]
    n, p = len(rows), len(rows[0])
    xtx = [[sum(r[i] * r[j] for r in rows) for j in range(p)] for i in range(p)]
    xty = [sum(r[i] * y for r, y in zip(rows, ys)) for i in range(p)]
    # Gauss-Jordan on [XᵀX | Xᵀy | I]: β and (XᵀX)⁻¹ together, pivots in column order.
    t = [xtx[i] + [xty[i]] + [Fraction(int(i == j)) for j in range(p)] for i in range(p)]
    for k in range(p):
        if t[k][k] == 0:
            raise AssertionError(f"column {k} is aliased; this test expects a full-rank fit")
        pivot = t[k][k]
        t[k] = [v / pivot for v in t[k]]
        for r in range(p):
            if r != k and t[r][k] != 0:
                f = t[r][k]
                t[r] = [a - f * b for a, b in zip(t[r], t[k])]
    beta = [t[i][p] for i in range(p)]
    inverse_diagonal = [t[i][p + 1 + i] for i in range(p)]
    yty = sum(y * y for y in ys)
    rss = yty - sum(b * v for b, v in zip(beta, xty))
    tss = yty - sum(ys) ** 2 / n if intercept else yty
    variance = rss / (n - p)
    return {
        "coefficients": [float(b) for b in beta],
        "se": [sqrt_rounded(variance * d) for d in inverse_diagonal],
        "sigma": sqrt_rounded(variance),
        "r2": float(1 - rss / tss),
        "rank": p,
    }


class Core:
    """One instance of the module, driven through the model exports only."""

    def __init__(self, engine, module, k, degree, intercept):
        self.store = wasmtime.Store(engine)
        self.e = wasmtime.Instance(self.store, module, []).exports(self.store)
        self.status = self.call("model_configure", k, degree, 1 if intercept else 0)
        self.k = k

    def call(self, name, *args):
        return self.e[name](self.store, *args)

    def update(self, points, w=1.0):
        """Writes the points as rows (x_1..x_k, y, w) and returns model_update's count."""
        stride = self.k + 2
        assert len(points) <= self.call("model_input_capacity")
        data = b"".join(struct.pack(f"<{stride}d", *p, w) for p in points)
        # The memory object is looked up at every write: the module grows its memory when it starts.
        self.e["memory"].write(self.store, data, self.call("model_input_ptr"))
        return self.call("model_update", len(points))

    def fit(self):
        rank = self.call("model_fit")
        p = self.call("model_columns")
        return {
            "coefficients": [self.call("model_coefficient", i) for i in range(p)],
            "aliased": [self.call("model_aliased", i) for i in range(p)],
            "se": [self.call("model_se", i) for i in range(p)],
            "sigma": self.call("model_sigma"),
            "r2": self.call("model_r2"),
            "rank": rank,
        }

    def save_state(self):
        size = self.call("model_save_state")
        return self.e["memory"].read(self.store, self.call("model_state_ptr"), self.call("model_state_ptr") + size)

    def load_state(self, data):
        assert len(data) <= self.call("model_state_capacity")
        self.e["memory"].write(self.store, data, self.call("model_state_ptr"))
        return self.call("model_load_state", len(data))


def bits(v):
    return struct.pack("<d", v).hex()


class ModelAbi(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.engine = wasmtime.Engine()
        cls.module = wasmtime.Module.from_file(cls.engine, str(ROOT / "build" / "streamreg.wasm"))
        cls.longley = read_csv(NIST / "longley.csv")
        cls.exact = exact_fit(cls.longley)

    def setUp(self):
        self.assertEqual(len(self.module.imports), 0)

    def core(self, k=6, degree=1, intercept=True):
        c = Core(self.engine, self.module, k, degree, intercept)
        self.assertEqual(c.status, 0)
        return c

    def assertSameDouble(self, got, want, what):
        self.assertEqual(bits(got), bits(want), f"{what}: got {got!r}, want {want!r}")

    def assertFitIsExact(self, fit):
        want = self.exact
        self.assertEqual(fit["rank"], 7)
        self.assertEqual(fit["aliased"], [0] * 7)
        for i in range(7):
            self.assertSameDouble(fit["coefficients"][i], want["coefficients"][i], f"coefficient {i}")
            self.assertSameDouble(fit["se"][i], want["se"][i], f"se {i}")
        self.assertSameDouble(fit["sigma"], want["sigma"], "sigma")
        self.assertSameDouble(fit["r2"], want["r2"], "r2")

    def test_sqrt_rounded_is_correct(self):
        # Squares of doubles, their neighbours' midpoints squared (the tie cases), and 2 against math.sqrt
        # (IEEE √ is correctly rounded).
        for v in (1.0, 3.0, 0.1, 304.85, 1e-30, 7e40):
            self.assertEqual(sqrt_rounded(Fraction(v) ** 2), v)
            self.assertEqual(sqrt_rounded(Fraction(v)), math.sqrt(v))
            up = math.nextafter(v, math.inf)
            mid = (Fraction(v) + Fraction(up)) / 2
            even = v if struct.unpack("<q", struct.pack("<d", v))[0] % 2 == 0 else up
            self.assertEqual(sqrt_rounded(mid * mid), even)
            self.assertEqual(sqrt_rounded(mid * mid * (1 + Fraction(1, 2**200))), up)
            self.assertEqual(sqrt_rounded(mid * mid * (1 - Fraction(1, 2**200))), v)

    def test_exact_answers_agree_with_nist(self):
        # The exact answer for the doubles is within 1e-13 of NIST's certified values (for the decimals).
        certified = [-3482258.63459582, 15.0618722713733, -0.358191792925910e-01, -2.02022980381683,
                     -1.03322686717359, -0.511041056535807e-01, 1829.15146461355]
        certified_se = [890420.383607373, 84.9149257747669, 0.334910077722432e-01, 0.488399681651699,
                        0.214274163161675, 0.226073200069370, 455.478499142212]
        for got, want in zip(self.exact["coefficients"] + self.exact["se"], certified + certified_se):
            self.assertLess(abs(got / want - 1), 1e-13)
        self.assertLess(abs(self.exact["sigma"] / 304.854073561965 - 1), 1e-13)
        self.assertLess(abs(self.exact["r2"] / 0.995479004577296 - 1), 1e-13)

    def test_longley_bit_for_bit(self):
        c = self.core()
        self.assertEqual(c.update(self.longley), 16)
        self.assertEqual(c.call("model_count"), 16.0)
        self.assertEqual(c.call("model_refused"), 0.0)
        fit = c.fit()
        self.assertEqual(c.call("model_columns"), 7)  # set by model_fit
        self.assertFitIsExact(fit)

    def test_longley_one_point_at_a_time_with_a_retracted_outlier(self):
        c = self.core()
        outlier = [1e12, -3e9, 7.0, 1e-9, 2.0**60, -1.0, 5e11]
        self.assertEqual(c.update([outlier]), 1)
        for p in self.longley:
            self.assertEqual(c.update([p]), 1)
        self.assertEqual(c.update([outlier], w=-1.0), 1)
        self.assertEqual(c.call("model_count"), 16.0)
        self.assertFitIsExact(c.fit())

    def test_refused_points_change_nothing(self):
        c = self.core()
        bad = [
            self.longley[0][:2] + [math.nan] + self.longley[0][3:],
            self.longley[0][:6] + [math.inf],
            [2.0**441] + self.longley[0][1:],
            [2.0**-441] + self.longley[0][1:],
        ]
        self.assertEqual(c.update(bad), 0)
        self.assertEqual(c.update(self.longley[:1], w=0.5), 0)
        self.assertEqual(c.call("model_refused"), 5.0)
        self.assertEqual(c.update(self.longley), 16)
        self.assertFitIsExact(c.fit())
        # The bounds themselves are taken.
        edge = self.core(k=1)
        self.assertEqual(edge.update([[2.0**440, -(2.0**-440)], [0.0, 0.0]]), 2)

    def test_configure_codes(self):
        self.assertEqual(Core(self.engine, self.module, 0, 1, True).status, 1)
        self.assertEqual(Core(self.engine, self.module, 21, 1, True).status, 1)
        self.assertEqual(Core(self.engine, self.module, 1, 13, True).status, 2)
        self.assertEqual(Core(self.engine, self.module, 2, 3, True).status, 3)
        self.assertEqual(Core(self.engine, self.module, 20, 1, False).status, 0)
        self.assertEqual(Core(self.engine, self.module, 1, 12, False).status, 0)

    def test_state_round_trip(self):
        c = self.core()
        c.update(self.longley[:10])
        state = c.save_state()
        self.assertEqual(state[:4], b"SRGM")
        # Into a fresh instance of the same model: the rest of the points, then the exact fit.
        d = self.core()
        self.assertEqual(d.load_state(state), 0)
        self.assertEqual(d.call("model_count"), 10.0)
        d.update(self.longley[10:])
        self.assertFitIsExact(d.fit())
        # Into the same instance after a reset, and saving again gives the same bytes.
        c.call("model_reset")
        self.assertEqual(c.call("model_count"), 0.0)
        self.assertEqual(c.load_state(state), 0)
        self.assertEqual(c.save_state(), state)

    def test_state_refusals_change_nothing(self):
        c = self.core()
        c.update(self.longley)
        state = c.save_state()
        for k, degree, intercept in ((5, 1, True), (6, 1, False), (1, 6, True)):
            other = self.core(k, degree, intercept)
            other.update([[1.0] * k + [2.0]])
            self.assertEqual(other.load_state(state), 6, (k, degree, intercept))
            self.assertEqual(other.call("model_count"), 1.0)
        d = self.core()
        damaged = bytearray(state)
        damaged[60] ^= 1
        self.assertEqual(d.load_state(bytes(damaged)), 4)
        self.assertEqual(d.load_state(state[:-8]), 4)
        self.assertEqual(d.load_state(b"XXXX" + state[4:]), 2)
        self.assertEqual(d.load_state(state[:20]), 1)
        self.assertEqual(d.call("model_count"), 0.0)
        self.assertEqual(d.load_state(state), 0)
        self.assertFitIsExact(d.fit())


if __name__ == "__main__":
    unittest.main()
