"""The .wasm from Python with wasmtime: no glue, only the documented numbers-only ABI.

Run: python3 -m unittest discover -s test/python -v   (after: pip install -r test/python/requirements.txt)
"""
import csv
import pathlib
import struct
import unittest

import wasmtime

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = ROOT / "test" / "fixtures"


def rows(name):
    with open(DATA / name, newline="") as f:
        return [[float(v) for v in row] for row in list(csv.reader(f))[1:]]


class WasmAbi(unittest.TestCase):
    def setUp(self):
        self.store = wasmtime.Store()
        module = wasmtime.Module.from_file(self.store.engine, str(ROOT / "build" / "streamreg.wasm"))
        self.assertEqual(len(module.imports), 0)
        instance = wasmtime.Instance(self.store, module, [])
        self.e = instance.exports(self.store)
        self.mem = self.e["memory"]

    def call(self, name, *args):
        return self.e[name](self.store, *args)

    def write(self, points):
        cap = self.call("input_capacity")
        base = self.call("input_ptr")
        for i, (x, y) in enumerate(points):
            self.mem.write(self.store, struct.pack("<d", x), base + 8 * i)
            self.mem.write(self.store, struct.pack("<d", y), base + 8 * (cap + i))

    def test_seed_prefixes(self):
        points = rows("seed_points.csv")
        expected = rows("seed_expected_exact.csv")
        for i, point in enumerate(points):
            self.write([point])
            self.assertEqual(self.call("add", 1), 1)
            degenerate = self.call("fit")
            n, a, b = expected[i]
            self.assertEqual(degenerate, 1 if n == 1 else 0)
            self.assertEqual(self.call("intercept"), a)
            self.assertEqual(self.call("slope"), b)

    def test_norris_shifted_by_1e9_keeps_slope(self):
        points = [(x + 1e9, y) for x, y in rows("norris.csv")]
        self.write(points)
        self.assertEqual(self.call("add", len(points)), len(points))
        self.assertEqual(self.call("fit"), 0)
        self.assertAlmostEqual(self.call("slope"), 1.0021168180204545, places=5)

    def test_nan_is_refused(self):
        self.write([(float("nan"), 1.0), (1.0, float("inf"))])
        self.assertEqual(self.call("add", 2), 0)
        self.assertEqual(self.call("refused"), 2.0)
        self.assertEqual(self.call("count"), 0.0)


if __name__ == "__main__":
    unittest.main()
