package sqlitestore

// SetOnBusy makes s call f each time a call meets SQLITE_BUSY and is about
// to wait and retry. Set it before s is used.
func SetOnBusy(s *Store, f func()) { s.onBusy = f }
