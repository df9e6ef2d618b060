package authapi_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/authapi"
	"github.com/sessionauth/sessionauth/password"
	"github.com/sessionauth/sessionauth/store/memstore"
)

// allowAll is a Limiter that never throttles, so a benchmark measures the
// sign-in, not the limits.
type allowAll struct{}

func (allowAll) Attempt(context.Context, string, string, time.Time) (time.Duration, error) {
	return 0, nil
}
func (allowAll) Succeeded(context.Context, string, string) error { return nil }

// BenchmarkSignInRefusal measures a refused sign-in through the handler, with
// the default hash parameters, for a wrong password and for an unknown name,
// in the same run: the two must take the same time (within noise), or the
// answer's timing would tell which names have accounts.
//
//	go test -run '^$' -bench SignInRefusal -count 6 ./authapi | benchstat -col /case -
func BenchmarkSignInRefusal(b *testing.B) {
	store := memstore.New(memstore.Config{})
	defer store.Close()
	m, err := sessionauth.New(sessionauth.Config{Store: store, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	h, err := password.New(password.Params{})
	if err != nil {
		b.Fatal(err)
	}
	hash, err := h.Hash(context.Background(), "the right password")
	if err != nil {
		b.Fatal(err)
	}
	api, err := authapi.New(authapi.Config{
		Manager: m, Hasher: h, Limiter: allowAll{},
		Accounts: func(_ context.Context, name string) (authapi.Account, error) {
			if name != "ada@example.com" {
				return authapi.Account{}, authapi.ErrNoSuchAccount
			}
			return authapi.Account{UserID: "ada", PasswordHash: hash}, nil
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct{ name, email string }{
		{"case=wrong_password", "ada@example.com"},
		{"case=unknown_user", "nobody@example.com"},
	} {
		body := credentials(c.email, "a wrong password")
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/auth/sign-in", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				api.SignIn(rec, req)
				if rec.Code != http.StatusUnauthorized {
					b.Fatalf("status %d", rec.Code)
				}
			}
		})
	}
}
