package sqlitestore_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/store/sqlitestore"
)

func ExampleOpen() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	store, err := sqlitestore.Open(ctx, filepath.Join(dir, "sessions.db"), sqlitestore.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	m, err := sessionauth.New(sessionauth.Config{Store: store})
	if err != nil {
		log.Fatal(err)
	}

	token, _, err := m.Create(ctx, "user-42", sessionauth.Metadata{})
	if err != nil {
		log.Fatal(err)
	}
	s, err := m.Authenticate(ctx, token)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(s.UserID)
	// Output: user-42
}
