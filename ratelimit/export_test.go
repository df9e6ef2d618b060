package ratelimit

// MemoryLen is the number of keys m holds.
func MemoryLen(m *Memory) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.tat)
}
