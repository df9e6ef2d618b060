package password

import "context"

// Hold takes a check slot, as a running check does, for tests of the cap.
func (h *Hasher) Hold(ctx context.Context) error { return h.acquire(ctx) }

// Free gives back a slot taken by Hold.
func (h *Hasher) Free() { h.release() }
