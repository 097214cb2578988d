// Package fifo is a bounded, concurrency-safe map that forgets its oldest
// entries first: for in-process caches (parsed Consents by content, settled
// report counters, verified bearer tokens).
package fifo

import "sync"

// Cache holds at most Max entries; the zero value with Max set is ready.
type Cache[K comparable, V any] struct {
	Max   int
	mu    sync.Mutex
	m     map[K]V
	order []K
}

// Get returns the value kept for k.
func (c *Cache[K, V]) Get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[k]
	return v, ok
}

// Put keeps v for k unless k is kept already, forgetting the oldest entry
// when full.
func (c *Cache[K, V]) Put(k K, v V) { c.put(k, v, false) }

// Set keeps v for k, replacing a value kept for k already (which keeps its
// place in the order), forgetting the oldest entry when full.
func (c *Cache[K, V]) Set(k K, v V) { c.put(k, v, true) }

func (c *Cache[K, V]) put(k K, v V, replace bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[K]V)
	}
	if _, ok := c.m[k]; ok {
		if replace {
			c.m[k] = v
		}
		return
	}
	if len(c.order) >= c.Max {
		delete(c.m, c.order[0])
		c.order = c.order[1:]
	}
	c.m[k] = v
	c.order = append(c.order, k)
}

// Len is the number of entries kept.
func (c *Cache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
