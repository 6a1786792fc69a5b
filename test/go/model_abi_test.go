// The model ABI (the model_* exports of build/streamreg.wasm) from Go with wazero, no glue.
//
// NIST Longley (six x columns and an intercept) is fitted through the ABI alone, and every coefficient,
// standard error, sigma and R² must equal, bit for bit, the exact answer for the file's doubles, computed
// here with math/big.Rat: exact rationals from the doubles, Gauss-Jordan elimination on XᵀX, then one
// rounding per output — Rat.Float64 for a ratio (the nearest double, ties to even, as its docs say) and
// sqrtRounded below for a square root (exact comparisons of squares with the neighbours' midpoints).
// Run: cd test/go && go test -v ./...
package abi

import (
	"bytes"
	"math"
	"math/big"
	"testing"

	"github.com/tetratelabs/wazero/api"
)

// ratOf is the exact value of a finite double.
func ratOf(v float64) *big.Rat {
	return new(big.Rat).SetFloat64(v)
}

func ratFloat(q *big.Rat) float64 {
	f, _ := q.Float64()
	return f
}

// sqrtRounded is the double nearest to √q (ties to even) for q ≥ 0, in the normal range: it starts
// from the double square root of q's nearest double and steps to a neighbour while √q lies beyond the
// midpoint on that side, comparing squares exactly as rationals.
func sqrtRounded(q *big.Rat) float64 {
	if q.Sign() == 0 {
		return 0
	}
	v := math.Sqrt(ratFloat(q))
	for steps := 0; steps < 64; steps++ {
		even := math.Float64bits(v)&1 == 0
		down := math.Nextafter(v, 0)
		up := math.Nextafter(v, math.Inf(1))
		lo := new(big.Rat).Add(ratOf(down), ratOf(v))
		lo.Mul(lo, big.NewRat(1, 2))
		lo.Mul(lo, lo)
		hi := new(big.Rat).Add(ratOf(v), ratOf(up))
		hi.Mul(hi, big.NewRat(1, 2))
		hi.Mul(hi, hi)
		if c := q.Cmp(lo); c < 0 || c == 0 && !even {
			v = down
		} else if c := q.Cmp(hi); c > 0 || c == 0 && !even {
			v = up
		} else {
			return v
		}
	}
	panic("sqrtRounded: no convergence")
}

type exactFit struct {
	coefficients, se []float64
	sigma, r2        float64
}

// solveExact fits y (the last value of each point) on an intercept and the other values, exactly.
func solveExact(t *testing.T, points [][]float64) exactFit {
	n := len(points)
	p := len(points[0]) // intercept + (len - 1) x's
	xs := make([][]*big.Rat, n)
	ys := make([]*big.Rat, n)
	for i, pt := range points {
		xs[i] = []*big.Rat{big.NewRat(1, 1)}
		for _, v := range pt[:p-1] {
			xs[i] = append(xs[i], ratOf(v))
		}
		ys[i] = ratOf(pt[p-1])
	}
	// The tableau [XᵀX | Xᵀy | I].
	width := 2*p + 1
	tab := make([][]*big.Rat, p)
	for r := range tab {
		tab[r] = make([]*big.Rat, width)
		for c := range tab[r] {
			tab[r][c] = new(big.Rat)
		}
		for i := 0; i < n; i++ {
			for c := 0; c < p; c++ {
				tab[r][c].Add(tab[r][c], new(big.Rat).Mul(xs[i][r], xs[i][c]))
			}
			tab[r][p].Add(tab[r][p], new(big.Rat).Mul(xs[i][r], ys[i]))
		}
		tab[r][p+1+r].SetInt64(1)
	}
	xty := make([]*big.Rat, p)
	for r := range xty {
		xty[r] = new(big.Rat).Set(tab[r][p])
	}
	for k := 0; k < p; k++ {
		if tab[k][k].Sign() == 0 {
			t.Fatalf("column %d is aliased; this test expects a full-rank fit", k)
		}
		inv := new(big.Rat).Inv(tab[k][k])
		for c := range tab[k] {
			tab[k][c].Mul(tab[k][c], inv)
		}
		for r := 0; r < p; r++ {
			if r == k || tab[r][k].Sign() == 0 {
				continue
			}
			f := new(big.Rat).Set(tab[r][k])
			for c := range tab[r] {
				tab[r][c].Sub(tab[r][c], new(big.Rat).Mul(f, tab[k][c]))
			}
		}
	}
	yty, sumY := new(big.Rat), new(big.Rat)
	for _, y := range ys {
		yty.Add(yty, new(big.Rat).Mul(y, y))
		sumY.Add(sumY, y)
	}
	rss := new(big.Rat).Set(yty)
	for r := 0; r < p; r++ {
		rss.Sub(rss, new(big.Rat).Mul(tab[r][p], xty[r]))
	}
	tss := new(big.Rat).Mul(sumY, sumY)
	tss.Quo(tss, big.NewRat(int64(n), 1))
	tss.Sub(yty, tss)
	variance := new(big.Rat).Quo(rss, big.NewRat(int64(n-p), 1))
	out := exactFit{
		sigma: sqrtRounded(variance),
		r2:    ratFloat(new(big.Rat).Sub(big.NewRat(1, 1), new(big.Rat).Quo(rss, tss))),
	}
	for r := 0; r < p; r++ {
		out.coefficients = append(out.coefficients, ratFloat(tab[r][p]))
		out.se = append(out.se, sqrtRounded(new(big.Rat).Mul(variance, tab[r][p+1+r])))
	}
	return out
}

func (c *core) i32(t *testing.T, name string, args ...int32) int32 {
	enc := make([]uint64, len(args))
	for i, a := range args {
		enc[i] = api.EncodeI32(a)
	}
	return api.DecodeI32(c.call(t, name, enc...))
}

func (c *core) f64(t *testing.T, name string, args ...int32) float64 {
	enc := make([]uint64, len(args))
	for i, a := range args {
		enc[i] = api.EncodeI32(a)
	}
	return api.DecodeF64(c.call(t, name, enc...))
}

// loadModel instantiates the module and configures a model; the memory is read through c.mod.Memory()
// at every access (the module grows it when it starts).
func loadModel(t *testing.T, k, degree int32, intercept bool) *core {
	c := load(t)
	flag := int32(0)
	if intercept {
		flag = 1
	}
	if code := c.i32(t, "model_configure", k, degree, flag); code != 0 {
		t.Fatalf("model_configure(%d, %d, %d) = %d", k, degree, flag, code)
	}
	return c
}

// update writes the points as rows x_1..x_k, y, w and returns model_update's accepted count.
func (c *core) update(t *testing.T, points [][]float64, w float64) int32 {
	if int32(len(points)) > c.i32(t, "model_input_capacity") {
		t.Fatal("more points than the input buffer holds")
	}
	base := uint32(c.i32(t, "model_input_ptr"))
	at := base
	for _, p := range points {
		for _, v := range append(append([]float64{}, p...), w) {
			if !c.mod.Memory().WriteFloat64Le(at, v) {
				t.Fatal("write out of range")
			}
			at += 8
		}
	}
	return c.i32(t, "model_update", int32(len(points)))
}

func sameDouble(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Float64bits(got) != math.Float64bits(want) {
		t.Errorf("%s: got %v (%#x), want %v (%#x)", what, got, math.Float64bits(got), want, math.Float64bits(want))
	}
}

func checkLongley(t *testing.T, c *core, want exactFit) {
	t.Helper()
	if rank := c.i32(t, "model_fit"); rank != 7 {
		t.Fatalf("rank %d, want 7", rank)
	}
	if p := c.i32(t, "model_columns"); p != 7 {
		t.Fatalf("model_columns %d, want 7", p)
	}
	for i := int32(0); i < 7; i++ {
		if c.i32(t, "model_aliased", i) != 0 {
			t.Errorf("column %d aliased", i)
		}
		sameDouble(t, "coefficient", c.f64(t, "model_coefficient", i), want.coefficients[i])
		sameDouble(t, "se", c.f64(t, "model_se", i), want.se[i])
	}
	sameDouble(t, "sigma", c.f64(t, "model_sigma"), want.sigma)
	sameDouble(t, "r2", c.f64(t, "model_r2"), want.r2)
}

func TestSqrtRounded(t *testing.T) {
	for _, v := range []float64{1, 3, 0.1, 304.85, 1e-30, 7e40} {
		if got := sqrtRounded(ratOf(v)); got != math.Sqrt(v) { // IEEE √ is correctly rounded
			t.Errorf("sqrtRounded(%v) = %v, want %v", v, got, math.Sqrt(v))
		}
		sq := new(big.Rat).Mul(ratOf(v), ratOf(v))
		if got := sqrtRounded(sq); got != v {
			t.Errorf("sqrtRounded(%v²) = %v", v, got)
		}
		up := math.Nextafter(v, math.Inf(1))
		mid := new(big.Rat).Add(ratOf(v), ratOf(up))
		mid.Mul(mid, big.NewRat(1, 2))
		mid.Mul(mid, mid)
		even := v
		if math.Float64bits(v)&1 == 1 {
			even = up
		}
		if got := sqrtRounded(mid); got != even {
			t.Errorf("tie above %v: got %v, want %v", v, got, even)
		}
		tiny := new(big.Rat).SetFrac(big.NewInt(1), new(big.Int).Lsh(big.NewInt(1), 200))
		if got := sqrtRounded(new(big.Rat).Mul(mid, new(big.Rat).Add(big.NewRat(1, 1), tiny))); got != up {
			t.Errorf("just above the midpoint above %v: got %v, want %v", v, got, up)
		}
		if got := sqrtRounded(new(big.Rat).Mul(mid, new(big.Rat).Sub(big.NewRat(1, 1), tiny))); got != v {
			t.Errorf("just below the midpoint above %v: got %v, want %v", v, got, v)
		}
	}
}

func TestModelLongleyExact(t *testing.T) {
	points := rows(t, "nist/longley.csv")
	want := solveExact(t, points)
	// The exact answer for the doubles agrees with NIST's certified values (for the decimals) to 1e-13.
	certified := []float64{-3482258.63459582, 15.0618722713733, -0.358191792925910e-01, -2.02022980381683,
		-1.03322686717359, -0.511041056535807e-01, 1829.15146461355}
	for i, v := range certified {
		if math.Abs(want.coefficients[i]/v-1) > 1e-13 {
			t.Fatalf("exact B%d %v is not within 1e-13 of NIST's %v", i, want.coefficients[i], v)
		}
	}
	if math.Abs(want.sigma/304.854073561965-1) > 1e-13 || math.Abs(want.r2/0.995479004577296-1) > 1e-13 {
		t.Fatalf("exact sigma %v or r2 %v not within 1e-13 of NIST's", want.sigma, want.r2)
	}

	c := loadModel(t, 6, 1, true)
	if got := c.update(t, points, 1); got != 16 {
		t.Fatalf("accepted %d points, want 16", got)
	}
	if n := c.f64(t, "model_count"); n != 16 {
		t.Fatalf("model_count %v, want 16", n)
	}
	checkLongley(t, c, want)
}

func TestModelStateRoundTrip(t *testing.T) {
	points := rows(t, "nist/longley.csv")
	want := solveExact(t, points)
	c := loadModel(t, 6, 1, true)
	c.update(t, points[:9], 1)
	size := uint32(c.i32(t, "model_save_state"))
	view, ok := c.mod.Memory().Read(uint32(c.i32(t, "model_state_ptr")), size)
	if !ok || !bytes.HasPrefix(view, []byte("SRGM")) {
		t.Fatal("no model state at model_state_ptr")
	}
	state := bytes.Clone(view) // Read returns a view of the module's memory
	loadInto := func(d *core) int32 {
		if !d.mod.Memory().Write(uint32(d.i32(t, "model_state_ptr")), state) {
			t.Fatal("write out of range")
		}
		return d.i32(t, "model_load_state", int32(len(state)))
	}
	d := loadModel(t, 6, 1, true)
	if code := loadInto(d); code != 0 {
		t.Fatalf("model_load_state = %d, want 0", code)
	}
	d.update(t, points[9:], 1)
	checkLongley(t, d, want)
	// Another model refuses the state with 6 and keeps its own points.
	for _, m := range [][3]int32{{5, 1, 1}, {6, 1, 0}, {1, 6, 1}} {
		o := loadModel(t, m[0], m[1], m[2] == 1)
		o.update(t, [][]float64{append(make([]float64, m[0]), 1)}, 1)
		if code := loadInto(o); code != 6 {
			t.Errorf("model %v: model_load_state = %d, want 6", m, code)
		}
		if n := o.f64(t, "model_count"); n != 1 {
			t.Errorf("model %v: count %v after a refused state, want 1", m, n)
		}
	}
}
