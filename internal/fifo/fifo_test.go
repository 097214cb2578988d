package fifo

import (
	"sync"
	"testing"
)

func TestCacheForgetsOldestFirst(t *testing.T) {
	c := &Cache[string, int]{Max: 2}
	c.Put("a", 1)
	c.Put("b", 2)
	c.Put("a", 9) // kept already: unchanged
	c.Put("c", 3) // full: forgets a
	if _, ok := c.Get("a"); ok {
		t.Error("oldest entry not forgotten")
	}
	for k, want := range map[string]int{"b": 2, "c": 3} {
		if v, ok := c.Get(k); !ok || v != want {
			t.Errorf("Get(%s) = %d %v", k, v, ok)
		}
	}
	if c.Len() != 2 {
		t.Errorf("Len = %d", c.Len())
	}
}

func TestCacheConcurrent(t *testing.T) {
	c := &Cache[int, int]{Max: 50}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 1000 {
				c.Put(w*1000+i, i)
				c.Get(i)
			}
		}()
	}
	wg.Wait()
	if c.Len() != 50 {
		t.Errorf("Len = %d, want the bound 50", c.Len())
	}
}

func TestCacheSetReplaces(t *testing.T) {
	c := &Cache[string, int]{Max: 2}
	c.Set("a", 1)
	c.Set("b", 2)
	c.Set("a", 9) // replaced, keeps its place: still the oldest
	if v, _ := c.Get("a"); v != 9 {
		t.Errorf("a = %d, want 9", v)
	}
	c.Set("c", 3)
	if _, ok := c.Get("a"); ok {
		t.Error("a, the oldest, was not forgotten")
	}
	if v, _ := c.Get("b"); v != 2 || c.Len() != 2 {
		t.Errorf("b = %d, len %d", v, c.Len())
	}
}
