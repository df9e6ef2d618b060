package ratelimit_test

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/sessionauth/sessionauth/ratelimit"
)

// A sign-in handler asks the Limiter before it checks the password, answers
// 429 with Retry-After (whole seconds, rounded up) when it refuses, 503 when
// the Store fails, and clears the account's failures after a success.
func ExampleLimiter_Attempt() {
	lim, err := ratelimit.New(ratelimit.Config{}) // in-process; share a Store between instances
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	now := time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)
	for i := 1; i <= 6; i++ {
		retryAfter, err := lim.Attempt(ctx, "alice@example.com", "192.0.2.1", now)
		switch {
		case err != nil:
			fmt.Println("503")
		case retryAfter > 0:
			fmt.Printf("attempt %d: 429, Retry-After: %.0f\n", i, math.Ceil(retryAfter.Seconds()))
		default:
			fmt.Printf("attempt %d: wrong password, 401\n", i)
		}
	}
	// Output:
	// attempt 1: wrong password, 401
	// attempt 2: wrong password, 401
	// attempt 3: wrong password, 401
	// attempt 4: wrong password, 401
	// attempt 5: wrong password, 401
	// attempt 6: 429, Retry-After: 60
}
