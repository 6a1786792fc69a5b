// The .wasm from Go with wazero (a pure-Go runtime): no glue, only the documented numbers-only ABI.
// Run: cd test/go && go test -v ./...
package abi

import (
	"context"
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

func rows(t *testing.T, name string) [][]float64 {
	f, err := os.Open(filepath.Join("..", "fixtures", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out [][]float64
	for _, r := range recs[1:] {
		var row []float64
		for _, v := range r {
			x, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			row = append(row, x)
		}
		out = append(out, row)
	}
	return out
}

type core struct {
	ctx context.Context
	mod api.Module
}

func load(t *testing.T) *core {
	ctx := context.Background()
	bytes, err := os.ReadFile(filepath.Join("..", "..", "build", "streamreg.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	rt := wazero.NewRuntime(ctx)
	t.Cleanup(func() { rt.Close(ctx) })
	compiled, err := rt.CompileModule(ctx, bytes)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(compiled.ImportedFunctions()); n != 0 {
		t.Fatalf("module imports %d functions, want none", n)
	}
	mod, err := rt.InstantiateModule(ctx, compiled, wazero.NewModuleConfig())
	if err != nil {
		t.Fatal(err)
	}
	return &core{ctx, mod}
}

func (c *core) call(t *testing.T, name string, args ...uint64) uint64 {
	res, err := c.mod.ExportedFunction(name).Call(c.ctx, args...)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) == 0 {
		return 0
	}
	return res[0]
}

func (c *core) write(t *testing.T, points [][]float64) {
	capacity := uint32(c.call(t, "input_capacity"))
	base := uint32(c.call(t, "input_ptr"))
	for i, p := range points {
		if !c.mod.Memory().WriteFloat64Le(base+8*uint32(i), p[0]) ||
			!c.mod.Memory().WriteFloat64Le(base+8*(capacity+uint32(i)), p[1]) {
			t.Fatal("write out of range")
		}
	}
}

func TestSeedPrefixes(t *testing.T) {
	c := load(t)
	points := rows(t, "seed_points.csv")
	expected := rows(t, "seed_expected_exact.csv")
	for i, p := range points {
		c.write(t, [][]float64{p})
		if got := c.call(t, "add", 1); got != 1 {
			t.Fatalf("add accepted %d points, want 1", got)
		}
		c.call(t, "fit")
		a := api.DecodeF64(c.call(t, "intercept"))
		b := api.DecodeF64(c.call(t, "slope"))
		if a != expected[i][1] || b != expected[i][2] {
			t.Fatalf("prefix %d: a=%v b=%v, want %v %v", i+1, a, b, expected[i][1], expected[i][2])
		}
	}
}

func TestNorrisCertified(t *testing.T) {
	c := load(t)
	points := rows(t, "norris.csv")
	c.write(t, points)
	c.call(t, "add", uint64(len(points)))
	if c.call(t, "fit") != 0 {
		t.Fatal("degenerate")
	}
	a := api.DecodeF64(c.call(t, "intercept"))
	b := api.DecodeF64(c.call(t, "slope"))
	if math.Abs(a/-0.262323073774029-1) > 1e-12 || math.Abs(b/1.00211681802045-1) > 1e-12 {
		t.Fatalf("a=%v b=%v differ from the certified values", a, b)
	}
}
