package main

import (
	"crypto/rand"
	"crypto/sha256"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/sessionauth/sessionauth"
)

// apiKey is a project's API key as the API shows it: the secret itself is
// shown once, in the response that creates it, and kept only as a hash.
type apiKey struct {
	ID          string    `json:"id"`
	ProjectID   string    `json:"projectId"`
	Description string    `json:"description"`
	Prefix      string    `json:"prefix"`
	CreatedAt   time.Time `json:"createdAt"`
	CreatedBy   string    `json:"createdBy"`
	hash        [32]byte
}

// keyStore holds the demo API keys in memory.
type keyStore struct {
	mu   sync.Mutex
	keys map[string]*apiKey
}

func newKeyStore() *keyStore { return &keyStore{keys: map[string]*apiKey{}} }

// create makes a key for projectID and returns it with its secret.
func (ks *keyStore) create(projectID, description, createdBy string) (apiKey, string) {
	secret := "sk_" + rand.Text()
	id := "key_" + strings.ToLower(rand.Text()[:12])
	k := &apiKey{
		ID:          id,
		ProjectID:   projectID,
		Description: description,
		Prefix:      secret[:7],
		CreatedAt:   time.Now().UTC().Truncate(time.Second),
		CreatedBy:   createdBy,
		hash:        sha256.Sum256([]byte(secret)),
	}
	ks.mu.Lock()
	ks.keys[id] = k
	ks.mu.Unlock()
	return *k, secret
}

func (ks *keyStore) get(id string) (apiKey, bool) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	k, ok := ks.keys[id]
	if !ok {
		return apiKey{}, false
	}
	return *k, true
}

func (ks *keyStore) delete(id string) {
	ks.mu.Lock()
	delete(ks.keys, id)
	ks.mu.Unlock()
}

// inProjects returns the keys of the given projects, oldest first.
func (ks *keyStore) inProjects(projects map[string]bool) []apiKey {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	out := []apiKey{}
	for _, k := range ks.keys {
		if projects[k.ProjectID] {
			out = append(out, *k)
		}
	}
	slices.SortFunc(out, func(a, b apiKey) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// keysProject names the project of GET /keys/api?projectId=P. It reads the
// query as the library's role checks do: a repeated parameter names no
// project, so a check and a listing can never read different values.
var keysProject = sessionauth.ProjectFromQuery("projectId")

// listKeys answers GET /keys/api: the keys of every project the user can
// access, or of ?projectId=P only (403 without access to P).
func (a *app) listKeys(w http.ResponseWriter, r *http.Request) {
	projects := map[string]bool{}
	if r.URL.Query().Has("projectId") {
		p := keysProject(r)
		if _, err := a.m.Authorize(r.Context(), p, sessionauth.RoleDeveloper); err != nil {
			a.m.Error(w, r, err)
			return
		}
		projects[p] = true
	} else {
		for _, p := range a.access.Projects(session(r).UserID) {
			projects[p.ID] = true
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"apiKeys": a.keys.inProjects(projects)})
}

type createKeyRequest struct {
	ProjectID   string `json:"projectId"`
	Description string `json:"description"`
}

type createKeyResponse struct {
	apiKey
	Key string `json:"key"`
}

// createKey answers POST /keys/api: developer or above on the project.
func (a *app) createKey(w http.ResponseWriter, r *http.Request) {
	var req createKeyRequest
	if err := decodeJSON(w, r, &req); err != nil {
		badRequest(w, "Bad Request: expected {\"projectId\",\"description\"}")
		return
	}
	if len(req.Description) > 200 || !utf8.ValidString(req.Description) {
		badRequest(w, "Bad Request: description must be at most 200 bytes of UTF-8")
		return
	}
	if _, err := a.m.Authorize(r.Context(), req.ProjectID, sessionauth.RoleDeveloper); err != nil {
		a.m.Error(w, r, err)
		return
	}
	k, secret := a.keys.create(req.ProjectID, req.Description, session(r).UserID)
	writeJSON(w, http.StatusCreated, createKeyResponse{apiKey: k, Key: secret})
}

// deleteKey answers DELETE /keys/api/{id}: admin or owner of the key's
// project. An unknown key is a 403 like a key of a foreign project, so the
// answer does not reveal which keys exist.
func (a *app) deleteKey(w http.ResponseWriter, r *http.Request) {
	k, ok := a.keys.get(r.PathValue("id"))
	if !ok {
		a.m.Error(w, r, sessionauth.ErrForbidden)
		return
	}
	if _, err := a.m.Authorize(r.Context(), k.ProjectID, sessionauth.RoleAdmin); err != nil {
		a.m.Error(w, r, err)
		return
	}
	a.keys.delete(k.ID)
	w.WriteHeader(http.StatusNoContent)
}
