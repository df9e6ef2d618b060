package frameworks

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/sessionauth/sessionauth"
)

// Gin is the recipe for github.com/gin-gonic/gin: adapt m.Require with
// GinMiddleware, then use it on a group or a single route like any gin
// middleware. Handlers read the session from c.Request.Context().
func Gin(m *sessionauth.Manager) http.Handler {
	requireSession := GinMiddleware(m.Require)

	r := gin.New()
	r.GET("/healthz", gin.WrapF(healthz))

	projects := r.Group("/projects", requireSession)
	projects.GET("/:id", func(c *gin.Context) {
		showProject(c.Writer, c.Request, c.Param("id"))
	})

	r.DELETE("/keys/:id", requireSession, func(c *gin.Context) {
		deleteKey(c.Writer, c.Request, c.Param("id"))
	})
	return r
}

// GinMiddleware turns net/http middleware such as m.Require or m.Optional
// into gin middleware. If the middleware passes the request on, the gin chain
// continues with the request it passed, whose context carries the session;
// if it answers itself (401, 403, 503), the chain stops there. gin.WrapH is
// not enough: it runs a handler, not middleware, and cannot continue the
// chain. The gin handlers write to c.Writer, so middleware that wraps the
// ResponseWriter (m.Require does not) would not see their output.
//
//	r.Group("/projects", GinMiddleware(m.Require))
func GinMiddleware(mw func(http.Handler) http.Handler) gin.HandlerFunc {
	return func(c *gin.Context) {
		passed := false
		mw(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			passed = true
			c.Request = r
			c.Next()
		})).ServeHTTP(c.Writer, c.Request)
		if !passed {
			c.Abort()
		}
	}
}
