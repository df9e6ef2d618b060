package redisstore_test

import (
	"context"
	"io"
	"log"
	"net/http"

	"github.com/redis/go-redis/v9"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/store/redisstore"
)

// Every instance of the application runs this; they share the sessions.
// ContextTimeoutEnabled lets the Manager's StoreTimeout bound every call.
func ExampleNew() {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", ContextTimeoutEnabled: true})
	defer client.Close()
	store, err := redisstore.New(client, redisstore.Config{Prefix: "myapp-sessions"})
	if err != nil {
		log.Fatal(err)
	}
	m, err := sessionauth.New(sessionauth.Config{Store: store})
	if err != nil {
		log.Fatal(err)
	}
	http.Handle("GET /me", m.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := sessionauth.FromContext(r.Context())
		_, _ = io.WriteString(w, s.UserID)
	})))
}

// In Redis Cluster all of a store's keys share one hash slot, so the store
// works unchanged on a cluster client.
func ExampleNew_cluster() {
	client := redis.NewClusterClient(&redis.ClusterOptions{
		Addrs:                 []string{"10.0.0.1:6379", "10.0.0.2:6379", "10.0.0.3:6379"},
		ContextTimeoutEnabled: true,
	})
	defer client.Close()
	store, err := redisstore.New(client, redisstore.Config{})
	if err != nil {
		log.Fatal(err)
	}
	_, _ = sessionauth.New(sessionauth.Config{Store: store})
}

// Open suits a URL taken from a flag or the environment.
func ExampleOpen() {
	store, err := redisstore.Open(context.Background(), "redis://127.0.0.1:6379/0", redisstore.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	_, _ = sessionauth.New(sessionauth.Config{Store: store})
}
